//! The global pages that take a password or start a sign-in (`/login/`, `/signup/`, the
//! two-factor step, single sign-on ...): registered by `routes::configure` on the service's own
//! hosts only.

use actix_web::{Resource, web};

use super::{
    accept_invitation, account, auth, my_organizations, passkeys, reauth, security, sign_in, sso,
    two_factor_api,
};

/// The pages, each a resource.
pub(super) fn sign_in_pages() -> [Resource; 29] {
    [
        web::resource("/signup/")
            .route(web::get().to(auth::signup_form))
            .route(web::post().to(auth::signup)),
        web::resource("/activate/{token}/").route(web::get().to(auth::activate)),
        web::resource("/go/{slug}/").route(web::get().to(my_organizations::go)),
        web::resource("/invitations/{token}/")
            .route(web::get().to(accept_invitation::show))
            .route(web::post().to(accept_invitation::respond)),
        web::resource("/login/")
            .route(web::get().to(auth::login_form))
            .route(web::post().to(auth::login)),
        web::resource("/login/two-factor/")
            .route(web::get().to(sign_in::step_form))
            .route(web::post().to(sign_in::step)),
        web::resource("/login/two-factor/passkey/options/")
            .route(web::post().to(passkeys::step_options)),
        web::resource("/login/two-factor/passkey/").route(web::post().to(passkeys::step)),
        web::resource("/login/passkey/options/").route(web::post().to(passkeys::sign_in_options)),
        web::resource("/login/passkey/").route(web::post().to(passkeys::sign_in)),
        web::resource("/reauthenticate/")
            .route(web::get().to(reauth::show))
            .route(web::post().to(reauth::submit)),
        web::resource("/account/security/").route(web::get().to(security::show)),
        web::resource("/account/security/totp/").route(web::post().to(security::start_totp)),
        web::resource("/account/security/totp/confirm/")
            .route(web::post().to(security::confirm_totp)),
        web::resource("/account/security/totp/delete/")
            .route(web::post().to(security::disable_totp)),
        web::resource("/account/security/recovery-codes/")
            .route(web::post().to(security::renew_codes)),
        web::resource("/account/security/passkeys/options/")
            .route(web::post().to(two_factor_api::start_passkey)),
        web::resource("/account/security/passkeys/").route(web::post().to(passkeys::add)),
        web::resource("/account/security/passkeys/{id}/delete/")
            .route(web::post().to(passkeys::delete)),
        web::resource("/password-reset/")
            .route(web::get().to(auth::password_reset_form))
            .route(web::post().to(auth::password_reset_request)),
        web::resource("/password-reset/{token}/")
            .route(web::get().to(auth::password_reset_confirm_form))
            .route(web::post().to(auth::password_reset_confirm)),
        web::resource("/account/")
            .route(web::get().to(account::show))
            .route(web::post().to(account::update)),
        web::resource("/organizations/").route(web::get().to(my_organizations::list)),
        web::resource("/organizations/add/")
            .route(web::get().to(my_organizations::add_form))
            .route(web::post().to(my_organizations::add)),
        web::resource("/account/tokens/").route(web::post().to(account::create_token)),
        web::resource("/account/tokens/{id}/revoke/").route(web::post().to(account::revoke_token)),
        web::resource("/sso/{slug}/start")
            .route(web::get().to(sso::start_page))
            .route(web::post().to(sso::start)),
        web::resource("/sso/callback").route(web::get().to(sso::callback)),
        web::resource("/organizations/join/{id}/").route(web::post().to(sso::join)),
    ]
}
