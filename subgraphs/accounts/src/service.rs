//! Account rules: registration, login with throttling, token issue and rotation, profile and
//! address changes, admin user management. The GraphQL layer calls these and maps their errors.

use std::sync::Arc;

use event_bus::Event;
use events::accounts::{
    EmailChanged, EmailVerificationRequested, EmailVerified, PasswordResetRequested,
    UserAccessChanged,
};
use kit::subgraph::Events;
use primitives::id::new_id;
use primitives::time::now_millis;

use crate::domain::clients::{self, ClientKind};
use crate::domain::password::WeakPassword;
use crate::domain::profile::{self, AddressInput};
use crate::domain::staff::{self, StaffRole, StaffRoleError};
use crate::domain::tokens::{self, KeyError, TokenSigner};
use crate::domain::{mfa, role, Email, Grants, Password, Role};
use crate::hashing::PasswordHashing;
use crate::store::{
    AccountsStore, AddressRow, ApiClientRow, NewVerification, PendingVerification, RefreshTokenRow,
    Rotation, SessionRow, StoreError, UserRow,
};
use auth::Permission;
use events::accounts::UserRegistered;
use kit::audit::Auditor;
use serde_json::json;

/// Throttling per window: failed logins per account and per client address, registrations per
/// client address.
pub struct ThrottleSettings {
    pub window_ms: i64,
    pub failures_per_account: i64,
    pub failures_per_address: i64,
    pub registrations_per_address: i64,
    /// Password reset requests and reset attempts from one address per window.
    pub password_resets_per_address: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window_ms: 15 * 60 * 1000,
            failures_per_account: 5,
            failures_per_address: 50,
            registrations_per_address: 10,
            password_resets_per_address: 10,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    InvalidEmail(#[from] crate::domain::email::InvalidEmail),
    #[error("{0}")]
    WeakPassword(#[from] WeakPassword),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// The address looks like an existing account's (a Cyrillic "с" for a Latin "c", say).
    #[error("this email looks the same as an existing account's; use another")]
    EmailConfusable,
    #[error("name must be 1 to 100 characters")]
    InvalidName,
    /// One message for every wrong credential: unknown email, wrong password, disabled account.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    #[error("this reset link was used already or has expired; ask for a new one")]
    InvalidResetToken,
    #[error("too many failed attempts; try again later")]
    TooManyAttempts,
    #[error("too many accounts were created from this address; try again later")]
    TooManyRegistrations,
    /// The change would leave no active user holding `staff:manage`.
    #[error("the change would leave no active staff member able to manage staff")]
    LastStaffManager,
    #[error("this confirmation link was used already or has expired; ask for a new one")]
    InvalidVerificationToken,
    #[error("your email address is confirmed already")]
    EmailAlreadyVerified,
    #[error("the code is not right, or was used already")]
    InvalidMfaCode,
    /// The sign-in waiting for a second factor expired, was finished, or never was.
    #[error("this sign-in has expired; enter your password again")]
    InvalidMfaChallenge,
    #[error("two-factor authentication is on already; turn it off first")]
    MfaAlreadyOn,
    #[error("start setting up two-factor authentication first")]
    MfaNotPending,
    #[error("two-factor authentication is not on")]
    MfaNotOn,
    #[error(transparent)]
    CorruptSecret(#[from] crate::domain::mfa::InvalidSecret),
    /// Staff do not change their own access (another staff manager does).
    #[error(
        "you cannot change your own staff roles or a role you hold; ask another staff manager"
    )]
    OwnAccess,
    #[error("a staff role with this name already exists")]
    StaffRoleNameTaken,
    #[error("{0}")]
    StaffRole(#[from] StaffRoleError),
    #[error("the refresh token is invalid or expired")]
    InvalidRefreshToken,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field} {message}")]
    InvalidAddress {
        field: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Hash(#[from] crate::hashing::HashingError),
    #[error(transparent)]
    Client(#[from] crate::domain::clients::ClientError),
    #[error(transparent)]
    Corrupt(#[from] role::UnknownRole),
    #[error(transparent)]
    CorruptPermission(#[from] auth::permission::UnknownPermission),
    #[error("an API client with this name already exists")]
    ClientNameTaken,
    /// Unknown client id or wrong secret (one answer for both).
    #[error("invalid client credentials")]
    InvalidClient,
}

pub type AccountResult<T> = Result<T, AccountError>;

/// Tokens handed to a client after registration, login or refresh.
/// An API client's access token (client_credentials grant: no refresh token).
pub struct ClientToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scopes: Vec<String>,
}

/// How long sessions and reset links last, and what staff need for their permissions.
pub struct AccessPolicy {
    pub refresh_ttl_ms: i64,
    /// How long a password reset token works.
    pub reset_ttl_ms: i64,
    /// Staff hold their permissions only with a second factor.
    pub staff_mfa_required: bool,
}

/// What a correct password leads to: a session, or a wait for the second factor.
pub enum SignIn {
    Session(Session),
    /// The account has a second factor: `verify_mfa` with this token and a code finishes it.
    SecondFactor {
        token: String,
        expires_at: i64,
    },
}

/// How long an email confirmation link works.
const VERIFICATION_TTL_MS: i64 = 24 * 3600 * 1000;
/// Confirmation emails (sign-up links sent again, address changes) per account per window.
const VERIFICATIONS_PER_ACCOUNT: i64 = 5;

/// How long a sign-in waits for its second factor.
const MFA_CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;

/// A TOTP factor being set up: the secret and the URI an authenticator app reads.
pub struct TotpEnrollment {
    pub secret: String,
    pub otpauth_uri: String,
}

pub struct Session {
    pub user: UserRow,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

pub struct AccountsService {
    pub store: Arc<AccountsStore>,
    signer: TokenSigner,
    refresh_ttl_ms: i64,
    throttle: ThrottleSettings,
    /// How long a password reset token works.
    reset_ttl_ms: i64,
    hashing: PasswordHashing,
    events: Events,
    /// Counts the audit records added here, so a caller can wait for one.
    audit_records: tokio::sync::watch::Sender<u64>,
    /// Staff hold their permissions only with a second factor (`ACCOUNTS_STAFF_MFA`).
    staff_mfa_required: bool,
}

fn valid_name(name: &str) -> AccountResult<String> {
    profile::parse_name(name).map_err(|_| AccountError::InvalidName)
}

fn address_row(id: String, user_id: &str, fields: AddressInput) -> AccountResult<AddressRow> {
    let address = profile::parse_address(fields).map_err(|e| AccountError::InvalidAddress {
        field: e.field,
        message: e.message,
    })?;
    Ok(AddressRow {
        id,
        user_id: user_id.into(),
        full_name: address.full_name,
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        region: address.region,
        postal_code: address.postal_code,
        country_code: address.country_code,
        phone: address.phone,
        created_at: now_millis(),
    })
}

impl AccountsService {
    pub fn new(
        store: Arc<AccountsStore>,
        signer: TokenSigner,
        policy: AccessPolicy,
        throttle: ThrottleSettings,
        hashing: PasswordHashing,
        events: Events,
    ) -> Self {
        Self {
            store,
            signer,
            refresh_ttl_ms: policy.refresh_ttl_ms,
            throttle,
            reset_ttl_ms: policy.reset_ttl_ms,
            hashing,
            events,
            audit_records: tokio::sync::watch::Sender::new(0),
            staff_mfa_required: policy.staff_mfa_required,
        }
    }

    /// Adds a record to the audit log (once: a redelivered event adds nothing).
    pub async fn record_audit(
        &self,
        entry: &crate::domain::audit::AuditEntry,
    ) -> AccountResult<()> {
        if self.store.record_audit(entry).await? {
            self.audit_records.send_modify(|n| *n += 1);
        }
        Ok(())
    }

    /// Moves whenever an audit record is added.
    pub fn audit_records(&self) -> tokio::sync::watch::Receiver<u64> {
        self.audit_records.subscribe()
    }

    pub fn signer(&self) -> &TokenSigner {
        &self.signer
    }

    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Creates a customer account and signs it in; at most `registrations_per_address` per
    /// window from one client address (each attempt with a valid email, password and name
    /// counts, refused ones too).
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        name: &str,
        client_address: &str,
    ) -> AccountResult<Session> {
        let email = Email::parse(email)?;
        let password = Password::parse(password, email.as_str())?;
        let name = valid_name(name)?;
        let now = now_millis();
        let window_start = now - self.throttle.window_ms;
        // Counted before it is checked, by one atomic increment that tells this attempt its
        // place: registrations sent at once from one address cannot all pass a check made
        // before any was counted.
        let address_key = format!("register:{client_address}");
        let attempt = self
            .store
            .record_failure(&address_key, now, window_start)
            .await?;
        if attempt > self.throttle.registrations_per_address {
            return Err(AccountError::TooManyRegistrations);
        }
        let user = self
            .new_user(&email, password, &name, &[Role::Customer])
            .await?;
        let registered = self.events.event(&UserRegistered {
            user_id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
        });
        let link = self.new_verification(&user, &user.email, false);
        match self
            .store
            .insert_registered(&user, &registered, &link)
            .await
        {
            Err(StoreError::DuplicateEmail) => return Err(self.taken(&email).await),
            other => other?,
        }
        let user = self
            .store
            .user_by_email(email.as_str())
            .await?
            .ok_or(AccountError::NotFound("user"))?;
        self.start_session(user).await
    }

    /// Queues the email with a link confirming `email` for `user` (their own address, or with
    /// `change`, the one they asked to change to).
    async fn send_verification(
        &self,
        user: &UserRow,
        email: &str,
        change: bool,
    ) -> AccountResult<()> {
        let link = self.new_verification(user, email, change);
        self.store.insert_email_verification(&link).await?;
        Ok(())
    }

    /// A new link confirming `email` for `user`, with the email that carries it.
    fn new_verification(&self, user: &UserRow, email: &str, change: bool) -> NewVerification {
        let now = now_millis();
        let (secret, _) = tokens::new_refresh_token();
        let token = format!("evt_{secret}");
        let hash = tokens::hash_refresh_token(&token);
        let expires_at = now + VERIFICATION_TTL_MS;
        let event = self.events.event(&EmailVerificationRequested {
            user_id: user.id.clone(),
            email: email.into(),
            name: user.name.clone(),
            token,
            expires_at,
            change,
        });
        NewVerification {
            token_hash: hash,
            pending: PendingVerification {
                user_id: user.id.clone(),
                email: email.into(),
                change,
            },
            created_at: now,
            expires_at,
            event,
        }
    }

    /// Counts a confirmation email sent for `user_id`: refused beyond
    /// [`VERIFICATIONS_PER_ACCOUNT`] per window, so nobody floods an inbox.
    async fn count_verification(&self, user_id: &str) -> AccountResult<()> {
        let now = now_millis();
        let window_start = now - self.throttle.window_ms;
        let sent = self
            .store
            .record_failure(&format!("verify:{user_id}"), now, window_start)
            .await?;
        if sent > VERIFICATIONS_PER_ACCOUNT {
            return Err(AccountError::TooManyAttempts);
        }
        Ok(())
    }

    /// Sends the sign-up's confirmation link again.
    pub async fn request_email_verification(&self, user: &UserRow) -> AccountResult<()> {
        if self.store.email_verified(&user.id).await? {
            return Err(AccountError::EmailAlreadyVerified);
        }
        self.count_verification(&user.id).await?;
        self.send_verification(user, &user.email, false).await
    }

    /// Asks to change the account's address: the password is needed, and a link goes to the
    /// new address, which replaces the old one only once confirmed (the old one is then told).
    pub async fn change_email(
        &self,
        user: &UserRow,
        new_email: &str,
        password: &str,
    ) -> AccountResult<()> {
        let email = Email::parse(new_email)?;
        if !self
            .hashing
            .verify(password, Some(&user.password_hash))
            .await?
        {
            return Err(AccountError::InvalidCredentials);
        }
        if self.store.user_by_email(email.as_str()).await?.is_some() {
            return Err(AccountError::EmailTaken);
        }
        self.count_verification(&user.id).await?;
        self.send_verification(user, email.as_str(), true).await
    }

    /// Confirms an address with its link (once, before it expires). A new address replaces the
    /// account's, and the old one is told; either way the orders placed as a guest with the
    /// address become the account's (`user.email_verified`).
    pub async fn verify_email(&self, token: &str) -> AccountResult<UserRow> {
        let now = now_millis();
        let hash = tokens::hash_refresh_token(token.trim());
        let pending = self
            .store
            .pending_verification(&hash, now)
            .await?
            .ok_or(AccountError::InvalidVerificationToken)?;
        let user = self
            .user(&pending.user_id)
            .await?
            .ok_or(AccountError::InvalidVerificationToken)?;
        let mut events = vec![self.events.event(&EmailVerified {
            user_id: user.id.clone(),
            email: pending.email.clone(),
        })];
        if pending.change {
            events.push(self.events.event(&EmailChanged {
                user_id: user.id.clone(),
                old_email: user.email.clone(),
                new_email: pending.email.clone(),
                name: user.name.clone(),
            }));
        }
        match self
            .store
            .confirm_email(&hash, &pending, now, &events)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(AccountError::InvalidVerificationToken),
            Err(StoreError::DuplicateEmail) => {
                return Err(self.taken(&Email::parse(&pending.email)?).await)
            }
            Err(error) => return Err(error.into()),
        }
        self.user(&user.id)
            .await?
            .ok_or(AccountError::NotFound("user"))
    }

    /// Creates a user without signing in (demo data, admin bootstrap).
    pub async fn create_user(
        &self,
        email: &Email,
        password: Password,
        name: &str,
        roles: &[Role],
    ) -> AccountResult<String> {
        let user = self.new_user(email, password, name, roles).await?;
        match self.store.insert_user(&user).await {
            Err(StoreError::DuplicateEmail) => Err(self.taken(email).await),
            other => other.map(|_| user.id).map_err(Into::into),
        }
    }

    /// Why an address was refused as a duplicate: an account has it, or one that looks the same.
    async fn taken(&self, email: &Email) -> AccountError {
        match self.store.user_by_email(email.as_str()).await {
            Ok(None) => AccountError::EmailConfusable,
            Ok(Some(_)) => AccountError::EmailTaken,
            Err(error) => error.into(),
        }
    }

    /// An admin: a new user with this email and password, or the existing user with this email
    /// (their password unchanged), given the Administrator staff role (every permission; made
    /// again if it was deleted). `true` when the user was created.
    pub async fn create_admin(
        &self,
        email: &str,
        password: &str,
        name: &str,
    ) -> AccountResult<(String, bool)> {
        let email = Email::parse(email)?;
        let (user_id, created) = match self.store.user_by_email(email.as_str()).await? {
            Some(user) => (user.id, false),
            None => {
                let password = Password::parse(password, email.as_str())?;
                let id = self
                    .create_user(&email, password, name, &[Role::Customer])
                    .await?;
                (id, true)
            }
        };
        if self
            .store
            .staff_role(staff::ADMINISTRATOR_ROLE_ID)
            .await?
            .is_none()
        {
            let now = now_millis();
            let role = StaffRole {
                id: staff::ADMINISTRATOR_ROLE_ID.into(),
                name: staff::ADMINISTRATOR_ROLE_NAME.into(),
                permissions: Permission::ALL.to_vec(),
                created_at: now,
                updated_at: now,
            };
            match self.store.insert_staff_role(&role, &[]).await {
                Err(StoreError::DuplicateRoleName) => return Err(AccountError::StaffRoleNameTaken),
                other => other?,
            }
        }
        let now = now_millis();
        // A user created just now has no token to revoke.
        let events: Vec<Event> = (!created)
            .then(|| self.access_changed(&user_id, false, &[Role::Customer], now))
            .into_iter()
            .collect();
        if !self
            .store
            .add_staff_role(&user_id, staff::ADMINISTRATOR_ROLE_ID, now, &events)
            .await
            .map_err(staff_error)?
        {
            return Err(AccountError::NotFound("user"));
        }
        Ok((user_id, created))
    }

    async fn new_user(
        &self,
        email: &Email,
        password: Password,
        name: &str,
        roles: &[Role],
    ) -> AccountResult<UserRow> {
        let hash = self.hashing.hash(password).await?;
        let now = now_millis();
        Ok(UserRow {
            id: new_id("user"),
            email: email.as_str().into(),
            password_hash: hash,
            name: name.into(),
            roles: role::encode(roles),
            created_at: now,
            updated_at: now,
            disabled_at: None,
        })
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client_address: &str,
    ) -> AccountResult<SignIn> {
        let now = now_millis();
        let window_start = now - self.throttle.window_ms;
        // Throttle keys exist for unknown emails too, so throttling reveals nothing.
        let normalized = commerce::email::normalize(email);
        let account_key = format!("email:{normalized}");
        let address_key = format!("addr:{client_address}");
        if self.store.failures(&account_key, window_start).await?
            >= self.throttle.failures_per_account
            || self.store.failures(&address_key, window_start).await?
                >= self.throttle.failures_per_address
        {
            return Err(AccountError::TooManyAttempts);
        }
        let user = self.store.user_by_email(&normalized).await?;
        let verified = self
            .hashing
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        match user {
            Some(user) if verified && user.disabled_at.is_none() => {
                self.store.clear_failures(&account_key).await?;
                if self.has_second_factor(&user.id).await? {
                    let (token, hash) = tokens::new_refresh_token();
                    let expires_at = now + MFA_CHALLENGE_TTL_MS;
                    self.store
                        .insert_mfa_challenge(&hash, &user.id, expires_at)
                        .await?;
                    return Ok(SignIn::SecondFactor {
                        token: format!("mfa_{token}"),
                        expires_at,
                    });
                }
                Ok(SignIn::Session(self.start_session(user).await?))
            }
            _ => {
                self.store
                    .record_failure(&account_key, now, window_start)
                    .await?;
                self.store
                    .record_failure(&address_key, now, window_start)
                    .await?;
                Err(AccountError::InvalidCredentials)
            }
        }
    }

    /// Counts a password reset request or attempt from `client_address`: refused beyond
    /// `ACCOUNTS_PASSWORD_RESETS_PER_ADDRESS` per window, so tokens cannot be guessed in bulk.
    pub async fn count_password_reset(&self, client_address: &str) -> AccountResult<()> {
        let now = now_millis();
        let attempt = self
            .store
            .record_failure(
                &format!("reset:{client_address}"),
                now,
                now - self.throttle.window_ms,
            )
            .await?;
        if attempt > self.throttle.password_resets_per_address {
            return Err(AccountError::TooManyAttempts);
        }
        Ok(())
    }

    /// Emails a link to reset the password of the account with `email`, if there is an active
    /// one: a token that works once within `ACCOUNTS_PASSWORD_RESET_TTL_MINS`, stored as its
    /// hash. Nothing is said of whether the account exists; callers answer before this runs
    /// (see `requestPasswordReset`), so neither does the time taken.
    pub async fn send_password_reset(&self, email: &Email) -> AccountResult<()> {
        let Some(user) = self.store.user_by_email(email.as_str()).await? else {
            return Ok(());
        };
        if user.disabled_at.is_some() {
            return Ok(());
        }
        let now = now_millis();
        // 256 random bits, like a refresh token, marked as a reset token.
        let (secret, _) = tokens::new_refresh_token();
        let token = format!("prt_{secret}");
        let hash = tokens::hash_refresh_token(&token);
        let expires_at = now + self.reset_ttl_ms;
        let event = self.events.event(&PasswordResetRequested {
            user_id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            token,
            expires_at,
        });
        self.store
            .insert_password_reset(&hash, &user.id, now, expires_at, &event)
            .await?;
        Ok(())
    }

    /// Sets a new password with a reset token (once, before it expires): every session of the
    /// account ends and its access tokens stop working at once.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> AccountResult<()> {
        let now = now_millis();
        let hash = tokens::hash_refresh_token(token.trim());
        let user_id = self
            .store
            .password_reset_user(&hash, now)
            .await?
            .ok_or(AccountError::InvalidResetToken)?;
        let user = self
            .user(&user_id)
            .await?
            .ok_or(AccountError::InvalidResetToken)?;
        // Checked before the token is used, so a weak password does not spend it.
        let password = Password::parse(new_password, &user.email)?;
        let password_hash = self.hashing.hash(password).await?;
        let event = self.access_changed(
            &user.id,
            user.disabled_at.is_some(),
            &role::decode(&user.roles)?,
            now,
        );
        if !self
            .store
            .reset_password(&hash, &user.id, &password_hash, now, &event)
            .await?
        {
            return Err(AccountError::InvalidResetToken);
        }
        Ok(())
    }

    /// Changes the signed-in user's password (the current one required): every session ends,
    /// and this one goes on with the new tokens returned.
    pub async fn change_password(
        &self,
        user_id: &str,
        current: &str,
        new_password: &str,
    ) -> AccountResult<Session> {
        let user = self
            .user(user_id)
            .await?
            .ok_or(AccountError::InvalidCredentials)?;
        if !self
            .hashing
            .verify(current, Some(&user.password_hash))
            .await?
        {
            return Err(AccountError::InvalidCredentials);
        }
        let password = Password::parse(new_password, &user.email)?;
        let password_hash = self.hashing.hash(password).await?;
        self.store
            .change_password(&user.id, &password_hash, now_millis())
            .await?;
        self.start_session(user).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> AccountResult<Session> {
        let now = now_millis();
        let (token, next) = self.new_refresh_row("", "", now);
        let outcome = self
            .store
            .rotate_refresh_token(&tokens::hash_refresh_token(refresh_token), &next, now)
            .await?;
        let Rotation::Rotated { user_id, family_id } = outcome else {
            if outcome == Rotation::Reused {
                tracing::warn!("refresh token reused: its family is revoked");
            }
            return Err(AccountError::InvalidRefreshToken);
        };
        let user = self
            .user(&user_id)
            .await?
            .ok_or(AccountError::InvalidRefreshToken)?;
        Ok(Session {
            access_token: self.signer.sign_in_session(
                &user.id,
                &self.grants(&user).await?,
                now / 1000,
                &family_id,
            )?,
            refresh_token: token,
            expires_in: self.signer.ttl_secs(),
            user,
        })
    }

    /// The user's sessions that can still go on (a refresh token unused, unrevoked, unexpired),
    /// the latest used first.
    pub async fn sessions(&self, user_id: &str) -> AccountResult<Vec<SessionRow>> {
        Ok(self.store.sessions_of(user_id, now_millis()).await?)
    }

    /// Ends one of the user's sessions: its refresh tokens are revoked and its access tokens
    /// refused everywhere at once (`user.access_changed` naming the session).
    pub async fn revoke_session(&self, user_id: &str, session_id: &str) -> AccountResult<()> {
        let now = now_millis();
        let user = self
            .user(user_id)
            .await?
            .ok_or(AccountError::NotFound("user"))?;
        let event = self.events.event(&UserAccessChanged {
            session_id: Some(session_id.into()),
            ..self.access_change(
                user_id,
                user.disabled_at.is_some(),
                &role::decode(&user.roles)?,
                now,
            )
        });
        if !self
            .store
            .revoke_session(user_id, session_id, now, &event)
            .await?
        {
            return Err(AccountError::NotFound("session"));
        }
        Ok(())
    }

    /// Ends every session of the user, this one too: all their tokens are refused at once.
    pub async fn revoke_all_sessions(&self, user_id: &str) -> AccountResult<()> {
        let now = now_millis();
        let user = self
            .user(user_id)
            .await?
            .ok_or(AccountError::NotFound("user"))?;
        let event = self.access_changed(
            user_id,
            user.disabled_at.is_some(),
            &role::decode(&user.roles)?,
            now,
        );
        self.store.revoke_all_sessions(user_id, now, &event).await?;
        Ok(())
    }

    /// Ends the session the refresh token belongs to (its whole family).
    pub async fn logout(&self, refresh_token: &str) -> AccountResult<()> {
        let known = self
            .store
            .revoke_family_of(&tokens::hash_refresh_token(refresh_token), now_millis())
            .await?;
        if known {
            Ok(())
        } else {
            Err(AccountError::InvalidRefreshToken)
        }
    }

    pub async fn user(&self, id: &str) -> AccountResult<Option<UserRow>> {
        Ok(self
            .store
            .users_by_ids(&[id.to_string()])
            .await?
            .into_iter()
            .next())
    }

    pub async fn update_name(&self, user_id: &str, name: &str) -> AccountResult<UserRow> {
        let name = valid_name(name)?;
        if !self.store.update_name(user_id, &name, now_millis()).await? {
            return Err(AccountError::NotFound("user"));
        }
        self.user(user_id)
            .await?
            .ok_or(AccountError::NotFound("user"))
    }

    pub async fn add_address(
        &self,
        user_id: &str,
        fields: AddressInput,
    ) -> AccountResult<AddressRow> {
        let row = address_row(new_id("addr"), user_id, fields)?;
        self.store.insert_address(&row).await?;
        Ok(row)
    }

    pub async fn update_address(
        &self,
        user_id: &str,
        id: &str,
        fields: AddressInput,
    ) -> AccountResult<AddressRow> {
        let row = address_row(id.to_string(), user_id, fields)?;
        if self.store.update_address(&row).await? {
            Ok(row)
        } else {
            Err(AccountError::NotFound("address"))
        }
    }

    pub async fn delete_address(&self, user_id: &str, id: &str) -> AccountResult<()> {
        if self.store.delete_address(user_id, id).await? {
            Ok(())
        } else {
            Err(AccountError::NotFound("address"))
        }
    }

    /// What the user's tokens grant: their stored roles and their staff roles' permissions.
    /// Staff without a second factor, where one is required, are staff holding no permission
    /// until they turn it on.
    pub async fn grants(&self, user: &UserRow) -> AccountResult<Grants> {
        let stored = role::decode(&user.roles)?;
        let permissions = self.store.permissions_of(&user.id).await?;
        if !permissions.is_empty()
            && self.staff_mfa_required
            && !self.has_second_factor(&user.id).await?
        {
            return Ok(Grants::withheld(&stored));
        }
        Ok(Grants::new(&stored, permissions))
    }

    /// Whether the user has a confirmed TOTP factor.
    pub async fn has_second_factor(&self, user_id: &str) -> AccountResult<bool> {
        Ok(self
            .store
            .totp_factor(user_id)
            .await?
            .is_some_and(|f| f.confirmed_at.is_some()))
    }

    /// Finishes a sign-in waiting for its second factor: a TOTP code (each works once) or a
    /// recovery code (each works once). Wrong codes count like failed logins: after
    /// `failures_per_account` in the window every code is refused until it passes.
    pub async fn verify_mfa(&self, challenge: &str, code: &str) -> AccountResult<Session> {
        let now = now_millis();
        let hash = tokens::hash_refresh_token(challenge.trim().trim_start_matches("mfa_"));
        let user_id = self
            .store
            .mfa_challenge_user(&hash, now)
            .await?
            .ok_or(AccountError::InvalidMfaChallenge)?;
        self.second_factor(&user_id, code, now).await?;
        if !self.store.use_mfa_challenge(&hash, now).await? {
            return Err(AccountError::InvalidMfaChallenge);
        }
        let user = self
            .user(&user_id)
            .await?
            .filter(|u| u.disabled_at.is_none())
            .ok_or(AccountError::InvalidMfaChallenge)?;
        self.start_session(user).await
    }

    /// Checks a second factor of `user_id` (throttled; a right code is used up).
    async fn second_factor(&self, user_id: &str, code: &str, now: i64) -> AccountResult<()> {
        let window_start = now - self.throttle.window_ms;
        let key = format!("mfa:{user_id}");
        if self.store.failures(&key, window_start).await? >= self.throttle.failures_per_account {
            return Err(AccountError::TooManyAttempts);
        }
        let factor = self
            .store
            .totp_factor(user_id)
            .await?
            .filter(|f| f.confirmed_at.is_some())
            .ok_or(AccountError::MfaNotOn)?;
        let accepted = if mfa::is_totp_code(code) {
            match mfa::matching_step(&factor.secret, code, now / 1000)? {
                Some(step) => self.store.use_totp_step(user_id, step).await?,
                None => false,
            }
        } else {
            let hash = tokens::hash_refresh_token(&mfa::normalize_recovery_code(code));
            self.store.use_recovery_code(user_id, &hash, now).await?
        };
        if !accepted {
            self.store.record_failure(&key, now, window_start).await?;
            return Err(AccountError::InvalidMfaCode);
        }
        self.store.clear_failures(&key).await?;
        Ok(())
    }

    /// Starts setting up TOTP: a new secret, pending until a code from it confirms it.
    pub async fn start_totp(&self, user: &UserRow) -> AccountResult<TotpEnrollment> {
        let secret = mfa::new_secret();
        if !self
            .store
            .start_totp(&user.id, &secret, now_millis())
            .await?
        {
            return Err(AccountError::MfaAlreadyOn);
        }
        Ok(TotpEnrollment {
            otpauth_uri: mfa::otpauth_uri(&secret, &user.email)?,
            secret,
        })
    }

    /// Turns TOTP on with a code from the pending secret; returns the recovery codes (shown
    /// this once: only their hashes are kept). The user's tokens issued before stop working,
    /// so a staff member's next sign-in carries what the second factor unlocks.
    pub async fn confirm_totp(&self, user: &UserRow, code: &str) -> AccountResult<Vec<String>> {
        let now = now_millis();
        let factor = self
            .store
            .totp_factor(&user.id)
            .await?
            .ok_or(AccountError::MfaNotPending)?;
        if factor.confirmed_at.is_some() {
            return Err(AccountError::MfaAlreadyOn);
        }
        let step = mfa::matching_step(&factor.secret, code, now / 1000)?
            .ok_or(AccountError::InvalidMfaCode)?;
        let codes = mfa::new_recovery_codes();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| tokens::hash_refresh_token(&mfa::normalize_recovery_code(c)))
            .collect();
        let event = self.access_changed(&user.id, false, &role::decode(&user.roles)?, now);
        if !self
            .store
            .confirm_totp(&user.id, step, &hashes, now, &event)
            .await?
        {
            return Err(AccountError::InvalidMfaCode);
        }
        Ok(codes)
    }

    /// Turns TOTP off: the password and a code (or a recovery code) are both needed, and wrong
    /// ones count like failed logins. The user's tokens issued before stop working.
    pub async fn disable_totp(
        &self,
        user: &UserRow,
        password: &str,
        code: &str,
    ) -> AccountResult<()> {
        let now = now_millis();
        let window_start = now - self.throttle.window_ms;
        let key = format!("mfa:{}", user.id);
        if self.store.failures(&key, window_start).await? >= self.throttle.failures_per_account {
            return Err(AccountError::TooManyAttempts);
        }
        if !self
            .hashing
            .verify(password, Some(&user.password_hash))
            .await?
        {
            self.store.record_failure(&key, now, window_start).await?;
            return Err(AccountError::InvalidCredentials);
        }
        self.second_factor(&user.id, code, now).await?;
        let event = self.access_changed(&user.id, false, &role::decode(&user.roles)?, now);
        self.store.remove_totp(&user.id, &event).await?;
        Ok(())
    }

    pub async fn staff_roles(&self) -> AccountResult<Vec<StaffRole>> {
        Ok(self.store.staff_roles().await?)
    }

    pub async fn create_staff_role(
        &self,
        staff: &Auditor,
        name: &str,
        permissions: &[Permission],
    ) -> AccountResult<StaffRole> {
        let now = now_millis();
        let role = StaffRole {
            id: new_id("srole"),
            name: staff::parse_name(name)?,
            permissions: staff::parse_permissions(permissions)?,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit(
            staff,
            "createStaffRole",
            &role.id,
            None,
            Some(role_json(&role)),
        );
        self.store
            .insert_staff_role(&role, &[audit])
            .await
            .map_err(staff_error)?;
        Ok(role)
    }

    /// Renames a role or changes its permissions (`None` keeps them). Its members' tokens
    /// issued before stop working at once (`UserAccessChanged`), so their next refresh carries
    /// the new permissions. `actor` may not change a role they hold.
    pub async fn update_staff_role(
        &self,
        staff: &Auditor,
        id: &str,
        name: Option<&str>,
        permissions: Option<&[Permission]>,
    ) -> AccountResult<StaffRole> {
        let before = self
            .store
            .staff_role(id)
            .await?
            .ok_or(AccountError::NotFound("staff role"))?;
        self.refuse_own_role(staff.actor_id(), id).await?;
        let mut role = before.clone();
        if let Some(name) = name {
            role.name = staff::parse_name(name)?;
        }
        if let Some(permissions) = permissions {
            role.permissions = staff::parse_permissions(permissions)?;
        }
        let now = now_millis();
        role.updated_at = now;
        let audit = self.audit(
            staff,
            "updateStaffRole",
            id,
            Some(role_json(&before)),
            Some(role_json(&role)),
        );
        let changed = self
            .store
            .update_staff_role(
                &role,
                |member| self.access_changed(member, false, &[Role::Customer], now),
                &audit,
            )
            .await
            .map_err(staff_error)?;
        if !changed {
            return Err(AccountError::NotFound("staff role"));
        }
        Ok(role)
    }

    /// Deletes a role: its members lose what it granted at once. `actor` may not delete a role
    /// they hold.
    pub async fn delete_staff_role(&self, staff: &Auditor, id: &str) -> AccountResult<()> {
        self.refuse_own_role(staff.actor_id(), id).await?;
        let before = self
            .store
            .staff_role(id)
            .await?
            .ok_or(AccountError::NotFound("staff role"))?;
        let now = now_millis();
        let audit = self.audit(staff, "deleteStaffRole", id, Some(role_json(&before)), None);
        let deleted = self
            .store
            .delete_staff_role(
                id,
                |member| self.access_changed(member, false, &[Role::Customer], now),
                &audit,
            )
            .await
            .map_err(staff_error)?;
        if !deleted {
            return Err(AccountError::NotFound("staff role"));
        }
        Ok(())
    }

    async fn refuse_own_role(&self, actor: &str, role_id: &str) -> AccountResult<()> {
        let held = self.store.staff_roles_of(actor).await?;
        if held.iter().any(|r| r.id == role_id) {
            return Err(AccountError::OwnAccess);
        }
        Ok(())
    }

    /// Gives a user exactly these staff roles (none: no longer staff). Their tokens issued
    /// before stop working everywhere at once (`UserAccessChanged`), so the next refresh
    /// carries the new permissions. Nobody changes their own roles.
    pub async fn set_staff_roles(
        &self,
        staff: &Auditor,
        user_id: &str,
        role_ids: &[String],
    ) -> AccountResult<UserRow> {
        if staff.actor_id() == user_id {
            return Err(AccountError::OwnAccess);
        }
        let user = self
            .user(user_id)
            .await?
            .ok_or(AccountError::NotFound("user"))?;
        let mut role_ids = role_ids.to_vec();
        role_ids.sort();
        role_ids.dedup();
        let now = now_millis();
        let event = self.access_changed(
            user_id,
            user.disabled_at.is_some(),
            &role::decode(&user.roles)?,
            now,
        );
        let held: Vec<String> = self
            .store
            .staff_roles_of(user_id)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let audit = self.audit_of(
            staff,
            "setStaffRoles",
            ("User", user_id),
            Some(json!({ "staffRoleIds": held })),
            Some(json!({ "staffRoleIds": role_ids })),
        );
        if !self
            .store
            .set_staff_roles(user_id, &role_ids, now, &[event, audit])
            .await
            .map_err(staff_error)?
        {
            return Err(AccountError::NotFound("user or staff role"));
        }
        Ok(user)
    }

    /// Disables a user (their sessions end and their tokens stop working everywhere at once) or
    /// enables them again.
    pub async fn set_disabled(
        &self,
        staff: &Auditor,
        user_id: &str,
        disabled: bool,
    ) -> AccountResult<UserRow> {
        let user = self
            .user(user_id)
            .await?
            .ok_or(AccountError::NotFound("user"))?;
        let now = now_millis();
        let event = self.access_changed(user_id, disabled, &role::decode(&user.roles)?, now);
        let audit = self.events.event(&staff.record(
            Permission::CustomersWrite,
            "setUserDisabled",
            ("User", user_id),
            Some(json!({ "disabled": user.disabled_at.is_some() })),
            Some(json!({ "disabled": disabled })),
        ));
        if !self
            .store
            .set_disabled(user_id, disabled.then_some(now), now, &[event, audit])
            .await
            .map_err(staff_error)?
        {
            return Err(AccountError::NotFound("user"));
        }
        self.user(user_id)
            .await?
            .ok_or(AccountError::NotFound("user"))
    }

    /// The audit record of a change to staff role `role_id` (`staff:manage`).
    fn audit(
        &self,
        staff: &Auditor,
        action: &str,
        role_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Event {
        self.audit_of(staff, action, ("StaffRole", role_id), before, after)
    }

    /// The audit record of a `staff:manage` action on `entity` (a type and an id).
    fn audit_of(
        &self,
        staff: &Auditor,
        action: &str,
        entity: (&str, &str),
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Event {
        self.events
            .event(&staff.record(Permission::StaffManage, action, entity, before, after))
    }

    fn access_changed(&self, user_id: &str, disabled: bool, roles: &[Role], now: i64) -> Event {
        self.events
            .event(&self.access_change(user_id, disabled, roles, now))
    }

    /// Every token of the user issued before `now` stops counting.
    fn access_change(
        &self,
        user_id: &str,
        disabled: bool,
        roles: &[Role],
        now: i64,
    ) -> UserAccessChanged {
        UserAccessChanged {
            user_id: user_id.into(),
            disabled,
            roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
            changed_at: now,
            session_id: None,
        }
    }

    /// Registers an API client (or gives one registered under `name` a new secret, this kind
    /// and these scopes); returns it and its secret, which is shown only now. For operators
    /// (the `register-client` command); admins use [`AccountsService::create_client`].
    pub async fn register_client(
        &self,
        name: &str,
        kind: ClientKind,
        scopes: &[String],
    ) -> AccountResult<(ApiClientRow, String)> {
        let (row, secret) = new_client(name, kind, scopes)?;
        Ok((self.store.upsert_api_client(&row).await?, secret))
    }

    /// Registers a new API client; its secret is shown only now.
    pub async fn create_client(
        &self,
        staff: &Auditor,
        name: &str,
        kind: ClientKind,
        scopes: &[String],
    ) -> AccountResult<(ApiClientRow, String)> {
        let (row, secret) = new_client(name, kind, scopes)?;
        let audit = self.client_audit(
            staff,
            "createApiClient",
            &row,
            None,
            Some(client_json(&row)),
        );
        if !self.store.insert_api_client(&row, &[audit]).await? {
            return Err(AccountError::ClientNameTaken);
        }
        Ok((row, secret))
    }

    /// Gives a client a new secret; the old one stops working, and so do the tokens issued
    /// before, everywhere at once (a rotation is what follows a leak).
    pub async fn rotate_client_secret(
        &self,
        staff: &Auditor,
        client_id: &str,
    ) -> AccountResult<(ApiClientRow, String)> {
        let client = self.live_client(client_id).await?;
        let now = now_millis();
        let (secret, hash) = tokens::new_refresh_token();
        let event = self.client_access_changed(&client, false, now);
        let audit = self.client_audit(staff, "rotateApiClientSecret", &client, None, None);
        if !self
            .store
            .set_api_client_secret(client_id, &hash, now, &[event, audit])
            .await?
        {
            return Err(AccountError::NotFound("client"));
        }
        let client = self.live_client(client_id).await?;
        Ok((client, secret))
    }

    /// Revokes a client: no more tokens, and the ones it holds stop working at once.
    pub async fn revoke_client(
        &self,
        staff: &Auditor,
        client_id: &str,
    ) -> AccountResult<ApiClientRow> {
        let client = self.live_client(client_id).await?;
        let now = now_millis();
        let event = self.client_access_changed(&client, true, now);
        let audit = self.client_audit(
            staff,
            "revokeApiClient",
            &client,
            Some(client_json(&client)),
            None,
        );
        if !self
            .store
            .revoke_api_client(client_id, now, &[event, audit])
            .await?
        {
            return Err(AccountError::NotFound("client"));
        }
        self.store
            .api_client(client_id)
            .await?
            .ok_or(AccountError::NotFound("client"))
    }

    /// The audit record of a change to an API client (`api-clients:manage`); never its secret.
    fn client_audit(
        &self,
        staff: &Auditor,
        action: &str,
        client: &ApiClientRow,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Event {
        self.events.event(&staff.record(
            Permission::ApiClientsManage,
            action,
            ("ApiClient", &client.id),
            before,
            after,
        ))
    }

    /// A client that exists and is not revoked.
    async fn live_client(&self, client_id: &str) -> AccountResult<ApiClientRow> {
        self.store
            .api_client(client_id)
            .await?
            .filter(|c| c.revoked_at.is_none())
            .ok_or(AccountError::NotFound("client"))
    }

    fn client_access_changed(&self, client: &ApiClientRow, disabled: bool, now: i64) -> Event {
        self.events.event(&UserAccessChanged {
            user_id: client.id.clone(),
            disabled,
            roles: client.kind.roles(),
            changed_at: now,
            session_id: None,
        })
    }

    /// The OAuth2 client_credentials grant: an access token carrying the client's scopes (and
    /// the `partner` role for partners). Revoked clients are refused like unknown ones.
    pub async fn client_token(&self, client_id: &str, secret: &str) -> AccountResult<ClientToken> {
        let client = self
            .store
            .api_client(client_id)
            .await?
            .ok_or(AccountError::InvalidClient)?;
        let presented = tokens::hash_refresh_token(secret);
        if !tokens::constant_time_eq(presented.as_bytes(), client.secret_hash.as_bytes())
            || client.revoked_at.is_some()
        {
            return Err(AccountError::InvalidClient);
        }
        let scopes: Vec<String> = client.scopes.split_whitespace().map(String::from).collect();
        let access_token = self.signer.sign_client(
            &client.id,
            &client.kind.roles(),
            &scopes,
            now_millis() / 1000,
        )?;
        Ok(ClientToken {
            access_token,
            expires_in: self.signer.ttl_secs(),
            scopes,
        })
    }

    async fn start_session(&self, user: UserRow) -> AccountResult<Session> {
        let now = now_millis();
        let family = new_id("fam");
        let (token, row) = self.new_refresh_row(&family, &user.id, now);
        self.store.insert_refresh_token(&row).await?;
        Ok(Session {
            access_token: self.signer.sign_in_session(
                &user.id,
                &self.grants(&user).await?,
                now / 1000,
                &family,
            )?,
            refresh_token: token,
            expires_in: self.signer.ttl_secs(),
            user,
        })
    }

    fn new_refresh_row(&self, family: &str, user_id: &str, now: i64) -> (String, RefreshTokenRow) {
        let (token, hash) = tokens::new_refresh_token();
        let row = RefreshTokenRow {
            id: new_id("rt"),
            family_id: family.into(),
            user_id: user_id.into(),
            token_hash: hash,
            created_at: now,
            expires_at: now + self.refresh_ttl_ms,
        };
        (token, row)
    }
}

/// An API client as the audit trail shows it (without its secret's hash).
fn client_json(client: &ApiClientRow) -> serde_json::Value {
    json!({ "name": client.name, "kind": client.kind.as_str(), "scopes": client.scopes })
}

/// A staff role as the audit trail shows it.
fn role_json(role: &StaffRole) -> serde_json::Value {
    json!({ "name": role.name, "permissions": auth::permission::encode(&role.permissions) })
}

fn staff_error(error: StoreError) -> AccountError {
    match error {
        StoreError::LastStaffManager => AccountError::LastStaffManager,
        StoreError::DuplicateRoleName => AccountError::StaffRoleNameTaken,
        other => other.into(),
    }
}

/// A client row with a new secret (returned, never stored) and its hash.
fn new_client(
    name: &str,
    kind: ClientKind,
    scopes: &[String],
) -> AccountResult<(ApiClientRow, String)> {
    let (secret, hash) = tokens::new_refresh_token();
    let row = ApiClientRow {
        id: new_id("cli"),
        name: clients::parse_name(name)?,
        secret_hash: hash,
        kind,
        scopes: clients::parse_scopes(kind, scopes)?.join(" "),
        created_at: now_millis(),
        revoked_at: None,
    };
    Ok((row, secret))
}
