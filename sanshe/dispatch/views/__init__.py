"""Dispatch pages: the board, the urgent order form, the caregiver's offers (抢单), daily routes."""
