-- API tokens may be given an expiry: after expires_at (milliseconds) the token opens nothing.
-- Keep in step with the other engine's 20261202000019_token_expiry.sql.
alter table api_tokens add column expires_at bigint;
