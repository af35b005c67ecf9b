//! Media types: parsing `Content-Type` and choosing the declared entry a request matches.

use std::borrow::Cow;

/// A parsed media type or range (`application/json; charset=utf-8`, `application/*`, `*/*`).
/// Parts already in lowercase borrow the text they were parsed from: a request's
/// `Content-Type` is read without copying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MediaType<'a> {
    /// Lowercase top-level type, `*` for any.
    pub ty: Cow<'a, str>,
    /// Lowercase subtype with any suffix, `*` for any.
    pub subtype: Cow<'a, str>,
    /// Lowercase parameters, values unquoted.
    pub params: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// `text` in lowercase, copied only when it has an uppercase letter.
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

impl<'a> MediaType<'a> {
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.split(';');
        let essence = parts.next()?.trim();
        let (ty, subtype) = essence.split_once('/')?;
        let (ty, subtype) = (ty.trim(), subtype.trim());
        if ty.is_empty() || subtype.is_empty() || (ty == "*" && subtype != "*") {
            return None;
        }
        let params = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                let v = v.trim().trim_matches('"');
                Some((lowercase(k.trim()), lowercase(v)))
            })
            .collect();
        Some(Self {
            ty: lowercase(ty),
            subtype: lowercase(subtype),
            params,
        })
    }

    /// The same media type, holding its own text: for one kept beyond what it was read from.
    pub fn into_owned(self) -> MediaType<'static> {
        let owned = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        MediaType {
            ty: owned(self.ty),
            subtype: owned(self.subtype),
            params: self
                .params
                .into_iter()
                .map(|(k, v)| (owned(k), owned(v)))
                .collect(),
        }
    }

    /// The structured-syntax suffix: `json` for `application/problem+json`.
    pub fn suffix(&self) -> Option<&str> {
        self.subtype.rsplit_once('+').map(|(_, s)| s)
    }

    pub fn is_json(&self) -> bool {
        self.subtype == "json" || self.suffix() == Some("json")
    }

    pub fn is_form(&self) -> bool {
        self.ty == "application" && self.subtype == "x-www-form-urlencoded"
    }

    pub fn is_multipart_form(&self) -> bool {
        self.ty == "multipart" && self.subtype == "form-data"
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| &**v)
    }

    /// How specifically this declared range matches `request`, or None when it does not.
    ///
    /// Exact type with matching parameters beats exact type, which beats `type/*`, which beats
    /// `*/*`. A declared parameter (such as `charset`) must be present with the same value.
    fn specificity(&self, request: &MediaType<'_>) -> Option<u8> {
        let params_match = self
            .params
            .iter()
            .all(|(k, v)| request.param(k) == Some(&**v));
        if !params_match {
            return None;
        }
        let bonus = u8::from(!self.params.is_empty());
        if self.ty == "*" {
            return Some(bonus);
        }
        if self.ty != request.ty {
            return None;
        }
        if self.subtype == "*" {
            return Some(2 + bonus);
        }
        (self.subtype == request.subtype).then_some(4 + bonus)
    }
}

/// Index of the declared media type that best matches the request's, if any.
pub(crate) fn best_match(request: &MediaType<'_>, declared: &[MediaType<'_>]) -> Option<usize> {
    declared
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.specificity(request).map(|s| (s, i)))
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lowercase_media_type_borrows_its_text() {
        type Params = &'static [(&'static str, &'static str)];
        // (text, type, subtype, parameters, whether any part had to be copied)
        let rows: &[(&str, &str, &str, Params, bool)] = &[
            ("application/json", "application", "json", &[], false),
            (
                "application/json; charset=utf-8",
                "application",
                "json",
                &[("charset", "utf-8")],
                false,
            ),
            (
                "Application/JSON; Charset=\"UTF-8\"",
                "application",
                "json",
                &[("charset", "utf-8")],
                true,
            ),
            (
                " text/plain ;format=flowed",
                "text",
                "plain",
                &[("format", "flowed")],
                false,
            ),
            (
                "multipart/form-data; boundary=AbC",
                "multipart",
                "form-data",
                &[("boundary", "abc")],
                true,
            ),
        ];
        let copied = |text: &Cow<'_, str>| matches!(text, Cow::Owned(_));
        for &(text, ty, subtype, params, any_copy) in rows {
            let media = MediaType::parse(text).expect(text);
            assert_eq!((&*media.ty, &*media.subtype), (ty, subtype), "{text}");
            let got: Vec<(&str, &str)> = media.params.iter().map(|(k, v)| (&**k, &**v)).collect();
            assert_eq!(got, params, "{text}");
            let copies = copied(&media.ty)
                || copied(&media.subtype)
                || media.params.iter().any(|(k, v)| copied(k) || copied(v));
            assert_eq!(copies, any_copy, "{text}");
            assert_eq!(media.clone().into_owned(), media, "{text}");
        }
        for bad in ["", "json", "/json", "application/", "*/json"] {
            assert_eq!(MediaType::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn matches_table() {
        // (declared, request, expected index)
        let rows: &[(&[&str], &str, Option<usize>)] = &[
            (&["application/json"], "application/json", Some(0)),
            (
                &["application/json"],
                "Application/JSON; charset=UTF-8",
                Some(0),
            ),
            (&["application/json"], "text/plain", None),
            (&["application/json"], "application/problem+json", None),
            (
                &["application/merge-patch+json"],
                "application/merge-patch+json",
                Some(0),
            ),
            (
                &["*/*", "application/*", "application/json"],
                "application/json",
                Some(2),
            ),
            (&["*/*", "application/*"], "application/xml", Some(1)),
            (&["*/*"], "image/png", Some(0)),
            (&["text/plain; charset=utf-8"], "text/plain", None),
            (
                &["text/plain; charset=utf-8"],
                "text/plain; charset=\"UTF-8\"",
                Some(0),
            ),
            (
                &["text/plain", "text/plain; charset=utf-8"],
                "text/plain; charset=utf-8",
                Some(1),
            ),
            (&["application/json"], "application", None),
        ];
        for (declared, request, want) in rows {
            let declared: Vec<MediaType> = declared
                .iter()
                .map(|d| MediaType::parse(d).unwrap())
                .collect();
            let got = MediaType::parse(request).and_then(|r| best_match(&r, &declared));
            assert_eq!(got, *want, "{declared:?} vs {request}");
        }
    }

    #[test]
    fn kinds() {
        let json = MediaType::parse("application/vnd.api+json").unwrap();
        assert!(json.is_json());
        assert_eq!(json.suffix(), Some("json"));
        assert!(
            MediaType::parse("application/x-www-form-urlencoded")
                .unwrap()
                .is_form()
        );
        assert!(
            MediaType::parse("multipart/form-data; boundary=x")
                .unwrap()
                .is_multipart_form()
        );
        assert!(MediaType::parse("*/json").is_none());
    }
}
