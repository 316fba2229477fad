-- Secrets at rest are sealed (AES-256-GCM, src/domain/sealed-secrets.ts) since this
-- migration: a token signing key's private JWK is kept as sealed text, not as JSON, and
-- a subscription's signing key as sealed text whose bytes differ for equal keys, so the
-- unique index on it no longer means anything (keys are 256-bit random).
alter table token_signing_keys alter column private_jwk type text using private_jwk::text;
alter table subscriptions drop constraint if exists subscriptions_signing_key_key;
