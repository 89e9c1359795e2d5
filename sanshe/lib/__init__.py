"""Django-free helpers: ID numbers, masking, phones, pinyin, crypto, dates."""
