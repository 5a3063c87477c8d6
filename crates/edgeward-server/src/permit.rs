//! The one permission check of the admin API: whether an API client's grants allow an
//! operation, the proof that they do, and the refusal when they do not.
//!
//! The rule itself is core's `Grants::allows` (a plain capability covers every network, its
//! `*_STAGING_*` twin staging alone). Here it is applied, and nowhere else in the server (tidy:
//! `permissions_are_checked_only_in_the_permit_module`): [`check`] answers a [`Permit`] for one
//! capability, a zero-sized type of [`cap`], on the networks it was checked for; the operations a
//! permit allows take it (the token operations of `service` take the permit of their own
//! capability, on the token's networks), so a handler that checked "view" cannot create.
//!
//! Every refusal is `Error::Forbidden` naming the plain capability (`EKV_1002`, see
//! `problem.rs`); [`refusal_on`] names the staging twin where EdgeKV does (a namespace on
//! staging that is not there to delete).

use std::marker::PhantomData;

use edgeward_core::capability::{Capability, Grants};
use edgeward_core::network::{Network, Networks};
use edgeward_core::Error;

use crate::auth::Caller;

/// A capability as a type: what a [`Permit`] is for.
pub trait Cap: sealed::Sealed {
    /// The capability (its plain form; the staging twin is core's `Capability::staging_twin`).
    const CAP: Capability;
}

mod sealed {
    pub trait Sealed {}
}

/// The capabilities the admin API checks, one type each.
pub mod cap {
    macro_rules! caps {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("`", stringify!($name), "` as a type.")]
            #[derive(Debug, Clone, Copy)]
            pub enum $name {}
            impl super::sealed::Sealed for $name {}
            impl super::Cap for $name {
                const CAP: edgeward_core::capability::Capability = edgeward_core::capability::Capability::$name;
            }
        )*};
    }
    caps!(
        CreateToken,
        ViewToken,
        RevokeToken,
        ViewNamespace,
        CreateNamespace,
        ModifyNamespace,
        DeleteNamespace,
        AuthorizeNamespace,
        ReadData,
        WriteData,
        DeleteData,
        ManageNotifications,
        ViewAudit,
    );
}

/// Proof that the caller's grants allow `C` on `networks`. Only [`check`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct Permit<C: Cap> {
    networks: Networks,
    cap: PhantomData<C>,
}

impl<C: Cap> Permit<C> {
    /// The networks it was checked for.
    pub fn networks(&self) -> Networks {
        self.networks
    }
}

/// The one check: `C` on `networks`, or `Forbidden` naming `C`'s plain capability.
pub fn check<C: Cap>(grants: &Grants, networks: Networks) -> Result<Permit<C>, Error> {
    decide(grants, C::CAP, networks)?;
    Ok(Permit { networks, cap: PhantomData })
}

/// Whether `C` is held for every network (its plain capability): who may be told that a token
/// does not exist.
pub fn held_on_every_network<C: Cap>(grants: &Grants) -> bool {
    decide(grants, C::CAP, Networks::BOTH).is_ok()
}

/// The refusal of `C`, where the check could not be made (nothing there to check it on).
pub fn refusal<C: Cap>() -> Error {
    Error::Forbidden(C::CAP)
}

/// The refusal of `C` on `network`, naming the capability that would cover it there (the
/// staging twin on staging).
pub fn refusal_on<C: Cap>(network: Network) -> Error {
    match (network, C::CAP.staging_twin()) {
        (Network::Staging, Some(twin)) => Error::Forbidden(twin),
        _ => refusal::<C>(),
    }
}

/// Whether `holder` may hand out `given` (to a user, directly or through a role; to a role):
/// only what it holds itself, so that managing people never raises anyone above the one who
/// manages them. A `*_STAGING_*` capability is covered by itself or by its plain form. The
/// refusal names the first capability not held.
pub fn covers(holder: &Grants, given: &Grants) -> Result<(), Error> {
    for cap in given.iter() {
        let held = match Capability::ALL.iter().find(|plain| plain.staging_twin() == Some(cap)) {
            Some(plain) => holder.allows(*plain, Networks::STAGING),
            None => holder.has(cap),
        };
        if !held {
            return Err(Error::Forbidden(cap));
        }
    }
    Ok(())
}

fn decide(grants: &Grants, cap: Capability, networks: Networks) -> Result<(), Error> {
    if grants.allows(cap, networks) {
        Ok(())
    } else {
        Err(Error::Forbidden(cap))
    }
}

impl Caller {
    /// `C` held account-wide: a capability no network qualifies (`VIEW_AUDIT`), or the plain
    /// form of one that a network would.
    pub fn permit<C: Cap>(&self) -> Result<Permit<C>, Error> {
        check(&self.0.grants, Networks::BOTH)
    }

    /// `C` held on `network` (the plain capability, or its staging twin on staging).
    pub fn permit_on<C: Cap>(&self, network: Network) -> Result<Permit<C>, Error> {
        check(&self.0.grants, network.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden<T: std::fmt::Debug>(r: Result<T, Error>) -> Capability {
        match r {
            Err(Error::Forbidden(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refusals_name_the_plain_capability() {
        let staging = Grants::new([Capability::CreateStagingToken, Capability::DeleteStagingNamespace]);
        assert!(check::<cap::CreateToken>(&staging, Networks::STAGING).is_ok());
        assert_eq!(forbidden(check::<cap::CreateToken>(&staging, Networks::BOTH)), Capability::CreateToken);
        assert_eq!(forbidden(check::<cap::ViewToken>(&staging, Networks::STAGING)), Capability::ViewToken);
        assert!(check::<cap::DeleteNamespace>(&staging, Network::Staging.into()).is_ok());
        assert_eq!(
            forbidden(check::<cap::DeleteNamespace>(&staging, Network::Production.into())),
            Capability::DeleteNamespace
        );
        assert!(!held_on_every_network::<cap::CreateToken>(&staging));
        assert!(held_on_every_network::<cap::CreateToken>(&Grants::new([Capability::CreateToken])));
        let permit = check::<cap::CreateToken>(&staging, Networks::STAGING).unwrap();
        assert_eq!(permit.networks(), Networks::STAGING);
        assert_eq!(std::mem::size_of::<Permit<cap::ViewAudit>>(), std::mem::size_of::<Networks>());
    }

    #[test]
    fn a_holder_covers_only_what_it_holds_and_a_plain_grant_covers_its_staging_twin() {
        use Capability as C;
        let holder = Grants::new([C::ManageNotifications, C::CreateToken, C::ViewStagingToken]);
        assert!(covers(&holder, &Grants::new([C::CreateToken, C::CreateStagingToken])).is_ok());
        assert!(covers(&holder, &Grants::new([C::ViewStagingToken, C::ManageNotifications])).is_ok());
        assert_eq!(
            forbidden(covers(&holder, &Grants::new([C::ViewToken]))),
            C::ViewToken,
            "a twin covers no plain grant"
        );
        assert_eq!(forbidden(covers(&holder, &Grants::new([C::CreateToken, C::WriteData]))), C::WriteData);
        assert!(covers(&Grants::all(), &Grants::all()).is_ok());
        assert!(covers(&Grants::default(), &Grants::default()).is_ok());
    }

    #[test]
    fn a_missing_namespace_names_the_capability_of_its_network() {
        let name = |e: Error| forbidden::<()>(Err(e));
        assert_eq!(name(refusal_on::<cap::DeleteNamespace>(Network::Staging)), Capability::DeleteStagingNamespace);
        assert_eq!(name(refusal_on::<cap::DeleteNamespace>(Network::Production)), Capability::DeleteNamespace);
        assert_eq!(name(refusal_on::<cap::ViewAudit>(Network::Staging)), Capability::ViewAudit);
        assert_eq!(name(refusal::<cap::AuthorizeNamespace>()), Capability::AuthorizeNamespace);
    }
}
