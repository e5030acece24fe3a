-- Where the customer confirms a charge with their bank (3-D Secure) while the provider waits
-- for that; cleared once the provider reports the charge's result.
ALTER TABLE payments ADD COLUMN action_url TEXT;
