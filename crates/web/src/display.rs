//! Reading aids on every page: text size, contrast and a more readable font, remembered per
//! browser in a cookie and applied by the server, so they work without JavaScript.

use axum::Form;
use axum::extract::Extension;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use crate::auth::{Identity, append_cookie, cookie};

const DISPLAY_COOKIE: &str = "kf_display";

/// One reader's display preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Display {
    pub(crate) text: TextSize,
    pub(crate) high_contrast: bool,
    pub(crate) readable_font: bool,
}

/// Text size steps, relative to the browser's own default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TextSize {
    Smaller,
    #[default]
    Standard,
    Larger,
    Largest,
}

impl TextSize {
    const ALL: [TextSize; 4] = [
        TextSize::Smaller,
        TextSize::Standard,
        TextSize::Larger,
        TextSize::Largest,
    ];

    fn code(self) -> &'static str {
        match self {
            TextSize::Smaller => "smaller",
            TextSize::Standard => "standard",
            TextSize::Larger => "larger",
            TextSize::Largest => "largest",
        }
    }

    fn label(self) -> &'static str {
        match self {
            TextSize::Smaller => "Smaller",
            TextSize::Standard => "Standard",
            TextSize::Larger => "Larger",
            TextSize::Largest => "Largest",
        }
    }

    fn parse(s: &str) -> TextSize {
        TextSize::ALL
            .into_iter()
            .find(|t| t.code() == s)
            .unwrap_or_default()
    }
}

/// An option of a `<select>`, ready for a template.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub(crate) value: &'static str,
    pub(crate) label: &'static str,
    pub(crate) selected: bool,
}

impl Display {
    pub(crate) fn from_jar(jar: &CookieJar) -> Display {
        let Some(c) = jar.get(DISPLAY_COOKIE) else {
            return Display::default();
        };
        let mut d = Display::default();
        for (k, v) in form_urlencoded::parse(c.value().as_bytes()) {
            match &*k {
                "text" => d.text = TextSize::parse(&v),
                "contrast" => d.high_contrast = v == "high",
                "font" => d.readable_font = v == "readable",
                _ => {}
            }
        }
        d
    }

    fn encode(self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("text", self.text.code())
            .append_pair(
                "contrast",
                if self.high_contrast {
                    "high"
                } else {
                    "standard"
                },
            )
            .append_pair(
                "font",
                if self.readable_font {
                    "readable"
                } else {
                    "system"
                },
            )
            .finish()
    }

    /// Classes for the `<html>` element.
    pub(crate) fn classes(&self) -> String {
        let mut c = format!("text-{}", self.text.code());
        if self.high_contrast {
            c.push_str(" contrast-high");
        }
        if self.readable_font {
            c.push_str(" font-readable");
        }
        c
    }

    pub(crate) fn text_choices(&self) -> Vec<Choice> {
        TextSize::ALL
            .into_iter()
            .map(|t| Choice {
                value: t.code(),
                label: t.label(),
                selected: t == self.text,
            })
            .collect()
    }
}

#[derive(Deserialize)]
pub(crate) struct DisplayForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    contrast: String,
    #[serde(default)]
    font: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /display`: stores the preferences and goes back to the page the reader was on.
pub(crate) async fn save(
    Extension(identity): Extension<Identity>,
    Form(form): Form<DisplayForm>,
) -> Response {
    let display = Display {
        text: TextSize::parse(&form.text),
        high_contrast: form.contrast == "high",
        readable_font: form.font == "readable",
    };
    let mut c = cookie(DISPLAY_COOKIE, display.encode(), identity.secure);
    c.set_max_age(Some(time_year()));
    let mut res = Redirect::to(&safe_return(&form.return_to)).into_response();
    append_cookie(&mut res, &c);
    res
}

fn time_year() -> time::Duration {
    time::Duration::days(365)
}

/// The longest return path kept; longer ones go home (a real page address is far shorter).
const MAX_RETURN_LEN: usize = 2048;

/// A same-origin path to go back to: one leading `/`, then only visible ASCII with no second `/`
/// straight after it and no `\\`. Anything else (other hosts, `//evil`, `/\\evil`, a tab or line
/// break that a browser would drop to make `//evil`, text that cannot be a header value) becomes
/// `/`, so a redirect built from it is always local and always a valid `Location`.
pub(crate) fn safe_return(to: &str) -> String {
    let local = to.len() <= MAX_RETURN_LEN
        && to.starts_with('/')
        && !to.starts_with("//")
        && to.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if local { to.to_owned() } else { "/".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_round_trip_through_the_cookie_value() {
        let d = Display {
            text: TextSize::Largest,
            high_contrast: true,
            readable_font: true,
        };
        let jar = CookieJar::new().add(cookie(DISPLAY_COOKIE, d.encode(), false));
        assert_eq!(Display::from_jar(&jar), d);
        assert_eq!(d.classes(), "text-largest contrast-high font-readable");
        assert_eq!(Display::default().classes(), "text-standard");
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return("/patients?q=a"), "/patients?q=a");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "",
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/%0D%0AX\r\nSet-Cookie: a=b",
            "/ /evil",
            "/caf\u{e9}",
            "evil.example",
        ] {
            assert_eq!(safe_return(bad), "/", "{bad}");
        }
    }
}
