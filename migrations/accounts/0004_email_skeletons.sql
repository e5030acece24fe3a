-- What each address looks like (its Unicode UTS #39 skeleton, `commerce::email::skeleton`): no
-- two accounts may have addresses a reader cannot tell apart. Accounts from before get theirs
-- when accounts starts (`AccountsStore::fill_email_skeletons`).
ALTER TABLE users ADD COLUMN email_skeleton TEXT;
CREATE UNIQUE INDEX users_by_email_skeleton ON users (email_skeleton);
