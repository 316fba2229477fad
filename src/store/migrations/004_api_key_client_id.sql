-- API keys are JWTs of the original's shape since this migration; each carries a
-- client_id claim, kept here so that the key's changes can name it
-- (InventoryBalanceChanged's updated.clientUuid). Keys issued before have none.
alter table api_keys add column client_id uuid;
