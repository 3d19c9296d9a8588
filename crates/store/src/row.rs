//! The persistence boundary: typed identifiers, and the one reader through which every table's
//! row decoder turns columns into domain values.
//!
//! A column that does not decode is a [`Corrupt`] error naming the table, the column and the
//! row; it is never replaced by a default (a 0, an epoch, "unknown"), because a clinical
//! record read wrongly is worse than one not shown.

use std::fmt;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::Corrupt;
use crate::{StoreError, instant};

/// Declares a typed identifier: UUID text made by the application, parsed at the boundary.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) String);

        impl $name {
            /// Parses an id from outside (a URL, a form, a JSON body): a UUID in its hyphenated
            /// form. Anything else names no record, so callers answer "not found".
            pub fn parse(input: &str) -> Option<Self> {
                let input = input.trim();
                // ok: text that is not a UUID names no record: `None`, which a page answers
                // as not found and a row's decoder as a corrupt column.
                let uuid = uuid::Uuid::try_parse(input).ok()?;
                // Written into a buffer, not through the formatter: ids of every row read pass here.
                let mut text = uuid::Uuid::encode_buffer();
                Some($name(uuid.hyphenated().encode_lower(&mut text).to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            #[allow(dead_code)]
            pub(crate) fn new() -> Self {
                $name(crate::new_id())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A clinic site's identifier.
    SiteId
);
id_type!(
    /// A staff account's identifier.
    UserId
);
id_type!(
    /// A patient's identifier.
    PatientId
);
id_type!(
    /// An assessment's identifier.
    AssessmentId
);
id_type!(
    /// An alert's identifier.
    AlertId
);
id_type!(
    /// An API token's identifier (never its secret).
    ApiTokenId
);
id_type!(
    /// A public inquiry's identifier.
    InquiryId
);
id_type!(
    /// A screening's identifier.
    ScreeningId
);
id_type!(
    /// A treatment course's identifier.
    CourseId
);
id_type!(
    /// A treatment chair's identifier.
    ChairId
);
id_type!(
    /// An appointment's identifier.
    AppointmentId
);
id_type!(
    /// A treatment session's identifier.
    SessionId
);
id_type!(
    /// A session alert's identifier (a vital sign out of bounds).
    SessionAlertId
);

/// A self-report link's public name: the SHA-256 of its secret, in lower-case hex. It names the
/// link in staff pages (to revoke it) but cannot be turned back into the link.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkId(pub(crate) String);

impl LinkId {
    /// Parses a link id from a URL: 64 hexadecimal digits.
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        (input.len() == 64 && input.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| LinkId(input.to_ascii_lowercase()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The typed columns a row offers, whichever driver read it: sqlx's `Any` rows everywhere, and
/// rusqlite's rows on the native SQLite read path ([`crate::native`]). An error is the driver's
/// own words for why the column does not decode.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> Result<Option<String>, String>;
    fn int(&self, column: &str) -> Result<Option<i64>, String>;
    fn float(&self, column: &str) -> Result<Option<f64>, String>;

    /// A text column handed to `read` as it lies in the row, for a value parsed from it (a
    /// date, an id, a code), so the text need not be copied first. `None` when it is null.
    fn read_text<T>(
        &self,
        column: &str,
        read: impl FnOnce(&str) -> T,
    ) -> Result<Option<T>, String> {
        Ok(self.text(column)?.map(|text| read(&text)))
    }
}

impl Columns for AnyRow {
    fn text(&self, column: &str) -> Result<Option<String>, String> {
        self.try_get(column).map_err(|e| e.to_string())
    }
    fn int(&self, column: &str) -> Result<Option<i64>, String> {
        self.try_get(column).map_err(|e| e.to_string())
    }
    fn float(&self, column: &str) -> Result<Option<f64>, String> {
        self.try_get(column).map_err(|e| e.to_string())
    }
}

/// Reads the columns of one row of `table`, naming the row in every error.
pub(crate) struct RowReader<'r, R: Columns + ?Sized = AnyRow> {
    row: &'r R,
    table: &'static str,
    key_column: &'r str,
}

impl<'r, R: Columns + ?Sized> RowReader<'r, R> {
    /// A reader for `row`, whose key is in column `key_column` (text or a number, never null).
    pub(crate) fn new(
        row: &'r R,
        table: &'static str,
        key_column: &'r str,
    ) -> Result<Self, StoreError> {
        let missing = |problem: String| {
            StoreError::Corrupt(Corrupt {
                table,
                column: "(key)",
                id: key_column.to_owned(),
                problem,
            })
        };
        // Only checked here; the key's text is read again for an error's message, the one place
        // it is needed.
        let present = match row.read_text(key_column, |_| ()) {
            Ok(text) => text.is_some(),
            Err(_) => row.int(key_column).map_err(missing)?.is_some(),
        };
        if !present {
            return Err(missing(format!("{key_column} is null")));
        }
        Ok(RowReader {
            row,
            table,
            key_column,
        })
    }

    /// The row's key as text, for an error's message.
    fn key(&self) -> String {
        match self.row.text(self.key_column) {
            Ok(Some(id)) => id,
            _ => match self.row.int(self.key_column) {
                Ok(Some(id)) => id.to_string(),
                _ => format!("(its {} does not read)", self.key_column),
            },
        }
    }

    pub(crate) fn corrupt(&self, column: &'static str, problem: impl Into<String>) -> StoreError {
        StoreError::Corrupt(Corrupt {
            table: self.table,
            column,
            id: self.key(),
            problem: problem.into(),
        })
    }

    fn required<T>(
        &self,
        column: &'static str,
        value: Result<Option<T>, String>,
    ) -> Result<T, StoreError> {
        match value {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.corrupt(column, "is null")),
            Err(e) => Err(self.corrupt(column, e)),
        }
    }

    fn optional<T>(
        &self,
        column: &'static str,
        value: Result<Option<T>, String>,
    ) -> Result<Option<T>, StoreError> {
        value.map_err(|e| self.corrupt(column, e))
    }

    pub(crate) fn text(&self, column: &'static str) -> Result<String, StoreError> {
        self.required(column, self.row.text(column))
    }

    pub(crate) fn opt_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        self.optional(column, self.row.text(column))
    }

    pub(crate) fn int(&self, column: &'static str) -> Result<i64, StoreError> {
        self.required(column, self.row.int(column))
    }

    /// A floating-point number.
    pub(crate) fn float(&self, column: &'static str) -> Result<f64, StoreError> {
        self.required(column, self.row.float(column))
    }

    /// A floating-point number that may be missing.
    pub(crate) fn opt_float(&self, column: &'static str) -> Result<Option<f64>, StoreError> {
        self.optional(column, self.row.float(column))
    }

    /// A number that may be missing.
    pub(crate) fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError> {
        self.optional(column, self.row.int(column))
    }

    /// A 0/1 flag; any other number is corrupt.
    pub(crate) fn flag(&self, column: &'static str) -> Result<bool, StoreError> {
        match self.int(column)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.corrupt(column, format!("{other} is not a 0/1 flag"))),
        }
    }

    pub(crate) fn instant(&self, column: &'static str) -> Result<jiff::Timestamp, StoreError> {
        instant(self.int(column)?).map_err(|p| self.corrupt(column, p))
    }

    pub(crate) fn opt_instant(
        &self,
        column: &'static str,
    ) -> Result<Option<jiff::Timestamp>, StoreError> {
        self.opt_int(column)?
            .map(|ms| instant(ms).map_err(|p| self.corrupt(column, p)))
            .transpose()
    }

    /// A text column parsed by `parse`, which says what is wrong when it fails.
    pub(crate) fn parsed<T, E: fmt::Display>(
        &self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        let read = self.row.read_text(column, |text| {
            parse(text).map_err(|e| format!("'{text}': {e}"))
        });
        match read {
            Ok(Some(Ok(value))) => Ok(value),
            Ok(Some(Err(problem))) => Err(self.corrupt(column, problem)),
            Ok(None) => Err(self.corrupt(column, "is null")),
            Err(e) => Err(self.corrupt(column, e)),
        }
    }

    /// An id column.
    pub(crate) fn id<T>(
        &self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, StoreError> {
        self.parsed(column, |s| parse(s).ok_or("not an id"))
    }

    /// An optional id column.
    pub(crate) fn opt_id<T>(
        &self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        let read = self.row.read_text(column, |s| {
            parse(s).ok_or_else(|| format!("'{s}' is not an id"))
        });
        match read {
            Ok(None) => Ok(None),
            Ok(Some(Ok(id))) => Ok(Some(id)),
            Ok(Some(Err(problem))) => Err(self.corrupt(column, problem)),
            Err(e) => Err(self.corrupt(column, e)),
        }
    }

    /// A JSON array of integers (answers as given).
    pub(crate) fn int_list(&self, column: &'static str) -> Result<Vec<i64>, StoreError> {
        self.parsed(column, |s| serde_json::from_str::<Vec<i64>>(s))
    }

    /// A JSON array of strings (codes).
    pub(crate) fn text_list(&self, column: &'static str) -> Result<Vec<String>, StoreError> {
        self.parsed(column, |s| serde_json::from_str::<Vec<String>>(s))
    }
}
