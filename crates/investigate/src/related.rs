//! Which records a set of investigations can touch, so a caller can keep only those.

use std::net::IpAddr;

use rustc_hash::FxHashSet;
use tokentrail_model::text::folded;
use tokentrail_model::{Access, SessionId, SignIn, TokenId};

use crate::context::Context;
use crate::Subject;

/// The users, sessions, tokens and addresses of the subjects to be investigated. A record that
/// names none of them cannot belong to any of their investigations.
///
/// Keep every record [`Related::sign_in`] or [`Related::access`] accepts, hand them to an
/// [`crate::Investigator`] with the [`Context`] of the whole input, and each investigation of an
/// added subject comes out as it would over every record, with one limit: a token's issuing
/// sign-in is found only when it is kept too. Adding the subjects' users (as [`Related::add`]
/// does for a user subject, and [`Related::add_user`] for any other) keeps every sign-in of
/// theirs, so only tokens used by other users at an investigated address can lose their issuer.
#[derive(Clone, Debug, Default)]
pub struct Related {
    users: FxHashSet<String>,
    sessions: FxHashSet<SessionId>,
    tokens: FxHashSet<TokenId>,
    ips: FxHashSet<IpAddr>,
}

impl Related {
    /// Nothing related yet.
    pub fn new() -> Related {
        Related::default()
    }

    /// Add a subject.
    pub fn add(&mut self, subject: &Subject, context: &Context) {
        match subject {
            Subject::User(u) => self.add_user(u, context),
            Subject::Session(s) => {
                self.sessions.insert(s.clone());
            }
            Subject::UserSession(u, s) => {
                self.add_user(u, context);
                self.sessions.insert(s.clone());
            }
            Subject::Token(t) => {
                self.tokens.insert(t.clone());
            }
            Subject::Ip(ip) => {
                self.ips.insert(*ip);
            }
        }
    }

    /// Add every record of a user (object id or UPN, any spelling).
    pub fn add_user(&mut self, user: &str, context: &Context) {
        self.users.extend(context.user_keys(user));
    }

    fn user(&self, id: Option<&String>, upn: Option<&String>) -> bool {
        [id, upn]
            .into_iter()
            .flatten()
            .any(|u| self.users.contains(&*folded(u)))
    }

    /// Whether a sign-in may belong to an added subject's investigation.
    pub fn sign_in(&self, s: &SignIn) -> bool {
        self.user(s.user_id.as_ref(), s.upn.as_ref())
            || s.session_id
                .as_ref()
                .is_some_and(|x| self.sessions.contains(x))
            || s.ip.is_some_and(|ip| self.ips.contains(&ip))
            || s.issued_token().is_some_and(|t| self.tokens.contains(&t))
    }

    /// Whether an access may belong to an added subject's investigation.
    pub fn access(&self, a: &Access) -> bool {
        self.user(a.user_id.as_ref(), a.upn.as_ref())
            || a.session_id
                .as_ref()
                .is_some_and(|x| self.sessions.contains(x))
            || a.ip.is_some_and(|ip| self.ips.contains(&ip))
            || a.token_id.as_ref().is_some_and(|t| self.tokens.contains(t))
    }
}
