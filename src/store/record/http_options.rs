//! The HTTP options of a job in a record (format version 2, DESIGN 6.2): see the table in
//! [`record`](super). Credentials are kept as given: the store directory is private to its
//! user (0700 on Unix).

use super::discriminant;
use crate::job::record::http_options::HttpOptions;
use crate::store::codec::{DecodeError, Reader, Writer};
use crate::{BgAuthCredentials, BgAuthScheme, BgAuthTarget, BgHttpSecurity};

/// Writes `options`.
pub(super) fn write(w: &mut Writer, options: &HttpOptions) {
    w.bool(options.write_only);
    w.u32(options.security.bits());
    w.option(options.method.as_deref(), |w, method| w.str(method, "http method"));
    w.bool(options.resumed);
    w.seq(&options.credentials, "credentials", |w, credentials| {
        w.u32(u32::from(credentials.target));
        w.u32(u32::from(credentials.scheme));
        w.str(&credentials.user_name, "credentials user name");
        w.str(&credentials.password, "credentials password");
    });
}

/// Reads what [`write`] wrote. Unknown security bits are kept as they are.
pub(super) fn read(r: &mut Reader<'_>) -> Result<HttpOptions, DecodeError> {
    Ok(HttpOptions {
        write_only: r.bool("headers write-only")?,
        security: BgHttpSecurity::from_bits_retain(r.u32("security flags")?),
        method: r.option("http method", |r| r.string("http method"))?,
        resumed: r.bool("resumed once")?,
        // The smallest: two discriminants and two empty strings.
        credentials: r.seq("credentials", 4 + 4 + 4 + 4, |r| {
            Ok(BgAuthCredentials {
                target: discriminant(r, "credentials target", BgAuthTarget::try_from)?,
                scheme: discriminant(r, "credentials scheme", BgAuthScheme::try_from)?,
                user_name: r.string("credentials user name")?,
                password: r.string("credentials password")?,
            })
        })?,
    })
}
