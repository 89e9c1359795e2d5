"""Pages of the orders app: care plans, service orders and the elder's self-service page."""
