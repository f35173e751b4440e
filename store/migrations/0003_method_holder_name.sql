-- The account holder's name gets its own column. IPpay needs it (CardName)
-- on every ACH CHECK and REVERSAL; until now it travelled in brand, which
-- a bank account otherwise leaves empty. Self-contained: move those names.
ALTER TABLE saved_methods ADD COLUMN holder_name TEXT NOT NULL DEFAULT '';
UPDATE saved_methods SET holder_name = brand, brand = '' WHERE kind = 'bank' AND brand <> '';
