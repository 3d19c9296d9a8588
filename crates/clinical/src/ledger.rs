//! The controlled-substance ledger's rules: what a clinic holds (ketamine HCl vials, Spravato
//! devices), the kinds of entry, how each moves a container's balance, who may witness, and
//! the deadlines a loss or theft opens.
//!
//! Facts and their sources: research `clinical.md` §6.4. Ketamine, its salts and isomers (so
//! esketamine) are Schedule III (64 FR 37673, 1999; 21 CFR 1308.13). A dispenser records every
//! container received (date, supplier name, address and DEA number), every unit dispensed or
//! administered (patient, date, quantity, who) and every other disposal (date, manner,
//! quantity) (21 CFR 1304.22(c)); records are kept at least two years (21 USC 827(b)); an
//! initial inventory on the first day and one at least every two years (21 CFR 1304.11).
//! Theft or significant loss: written notice to the DEA field division within one business
//! day of discovery, then DEA Form 106 online within 45 calendar days (21 CFR 1301.76(b); final
//! rule 88 FR 40707, 2023). Two-person witnessing of waste is a state or institutional rule, not
//! a federal one, so it is a setting, on by default.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

use crate::text::{self, TextProblem};

/// Strengths of ketamine HCl injection on the US market, mg/mL (research `clinical.md` §6.4 and
/// the issue: 10, 50 and 100 mg/mL vials; 100 mg/mL is diluted before IV use).
pub const VIAL_STRENGTHS_MG_PER_ML: [u32; 3] = [10, 50, 100];
/// The esketamine a Spravato nasal spray device holds, mg (Spravato prescribing information).
pub const SPRAVATO_DEVICE_MG: f64 = pk::dose::ESKETAMINE_MG_PER_DEVICE;
/// Records are kept at least this many years (21 USC 827(b)).
pub const RETENTION_YEARS: i16 = 2;
/// A biennial inventory is due at most this many years after the last inventory
/// (21 CFR 1304.11(c)).
pub const INVENTORY_YEARS: i16 = 2;
/// DEA Form 106 is filed within this many calendar days of discovering a theft or significant
/// loss (final rule 88 FR 40707, 2023).
pub const FORM_106_DAYS: i64 = 45;
/// The written notice to the DEA field division is due within this many business days of
/// discovery (21 CFR 1301.76(b)).
pub const NOTICE_BUSINESS_DAYS: i64 = 1;
/// The largest container a clinic records, mg (a 10 mL vial of 100 mg/mL holds 1,000 mg; the
/// bound only stops typing errors).
pub const CONTAINER_MAX_MG: f64 = 10_000.0;
/// Amounts are kept to a thousandth of a milligram; smaller differences are rounding.
pub const MG_EPSILON: f64 = 0.0005;
/// The most containers one receipt records (the bound only stops typing errors).
pub const MAX_CONTAINERS: u32 = 1000;

/// A text a receipt or an entry records. Entries are chained and never change, so a text is
/// checked before it is written: given where needed, within its length, without control
/// characters or invisible marks ([`crate::text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    /// The supplier's name (21 CFR 1304.22(c) records it for every receipt).
    SupplierName,
    /// The supplier's address (as above).
    SupplierAddress,
    /// The invoice or packing slip number.
    Invoice,
    /// The lot number printed on the package.
    Lot,
    /// How a waste or return was done (and to whom).
    Method,
    /// What happened, in words (a breakage, loss, theft or count difference).
    Explanation,
    /// The name of a place stock is kept ("Safe, Room A").
    PlaceName,
}

impl TextField {
    /// The most characters the field holds. Not clinical limits: room for any real value and a
    /// bound on what the chain stores. A lot number is at most 20 characters in a GS1 barcode
    /// (Application Identifier 10, GS1 General Specifications); twice that leaves room for what
    /// is typed by hand.
    pub fn max_chars(self) -> usize {
        match self {
            TextField::SupplierName => 200,
            TextField::SupplierAddress => 300,
            TextField::Invoice => 100,
            TextField::Lot => 40,
            TextField::Method => 200,
            TextField::Explanation => 2000,
            TextField::PlaceName => 100,
        }
    }

    /// The field's form name.
    pub fn code(self) -> &'static str {
        match self {
            TextField::SupplierName => "supplier_name",
            TextField::SupplierAddress => "supplier_address",
            TextField::Invoice => "invoice",
            TextField::Lot => "lot",
            TextField::Method => "method",
            TextField::Explanation => "explanation",
            TextField::PlaceName => "location_name",
        }
    }

    /// The field in words, for a message.
    pub fn words(self) -> &'static str {
        match self {
            TextField::SupplierName => "the supplier's name",
            TextField::SupplierAddress => "the supplier's address",
            TextField::Invoice => "the invoice or packing slip number",
            TextField::Lot => "the lot number",
            TextField::Method => "how it was wasted or returned",
            TextField::Explanation => "the explanation",
            TextField::PlaceName => "the place's name",
        }
    }

    /// Checks a text this field needs.
    pub fn required(self, input: &str) -> Result<&str, LedgerRefusal> {
        text::line(input, self.max_chars()).map_err(|problem| self.refused(problem))
    }

    /// Checks a text this field may leave empty (`None`). An explanation may run over several
    /// lines.
    pub fn optional(self, input: Option<&str>) -> Result<Option<&str>, LedgerRefusal> {
        let Some(input) = input else {
            return Ok(None);
        };
        let checked = if self == TextField::Explanation {
            text::optional_lines(input, self.max_chars())
        } else {
            text::optional_line(input, self.max_chars())
        };
        checked.map_err(|problem| self.refused(problem))
    }

    fn refused(self, problem: TextProblem) -> LedgerRefusal {
        LedgerRefusal::Text {
            field: self,
            problem,
        }
    }
}

/// What kind of place stock is kept in. Schedule III–V substances are stored in a securely
/// locked, substantially constructed cabinet (21 CFR 1301.75(b)); a safe is the stronger kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// A safe.
    Safe,
    /// A locked cabinet.
    Cabinet,
}

impl PlaceKind {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            PlaceKind::Safe => "safe",
            PlaceKind::Cabinet => "cabinet",
        }
    }

    /// The kind with this code.
    pub fn parse(code: &str) -> Option<PlaceKind> {
        [PlaceKind::Safe, PlaceKind::Cabinet]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// A new place to keep stock, checked: a name of one line (at most
/// [`TextField::PlaceName`]'s length, trimmed) and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlace {
    name: String,
    kind: PlaceKind,
}

impl NewPlace {
    /// Checks a place as typed: every problem at once.
    pub fn parse(name: &str, kind: &str) -> Result<NewPlace, Vec<LedgerRefusal>> {
        let name = TextField::PlaceName.required(name);
        let kind = PlaceKind::parse(kind.trim()).ok_or(LedgerRefusal::PlaceKind);
        match (name, kind) {
            (Ok(name), Ok(kind)) => Ok(NewPlace {
                name: name.to_owned(),
                kind,
            }),
            (name, kind) => Err([name.err(), kind.err()].into_iter().flatten().collect()),
        }
    }

    /// The name, trimmed.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kind.
    pub fn kind(&self) -> PlaceKind {
        self.kind
    }
}

/// What a container holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Form {
    /// A vial of ketamine HCl injection (racemic), with its strength and volume.
    Vial {
        /// Strength, mg/mL.
        mg_per_ml: u32,
        /// Volume, mL.
        ml: f64,
    },
    /// One Spravato nasal spray device (esketamine 28 mg).
    SpravatoDevice,
}

impl Form {
    /// The milligrams a full container holds.
    pub fn full_mg(self) -> f64 {
        match self {
            Form::Vial { mg_per_ml, ml } => f64::from(mg_per_ml) * ml,
            Form::SpravatoDevice => SPRAVATO_DEVICE_MG,
        }
    }

    /// The substance, as the record names it.
    pub fn substance(self) -> &'static str {
        match self {
            Form::Vial { .. } => "ketamine hydrochloride injection",
            Form::SpravatoDevice => "esketamine nasal spray (Spravato)",
        }
    }

    /// Whether it is a Spravato device (what an esketamine session draws from), not a vial.
    pub fn is_device(self) -> bool {
        matches!(self, Form::SpravatoDevice)
    }

    /// mL for an amount in mg (vials); none for a device.
    pub fn ml_for(self, mg: f64) -> Option<f64> {
        match self {
            Form::Vial { mg_per_ml, .. } => Some(mg / f64::from(mg_per_ml)),
            Form::SpravatoDevice => None,
        }
    }

    /// Words: "ketamine HCl 50 mg/mL, 10 mL vial" or "Spravato 28 mg device".
    pub fn label(self) -> String {
        match self {
            Form::Vial { mg_per_ml, ml } => format!("ketamine HCl {mg_per_ml} mg/mL, {ml} mL vial"),
            Form::SpravatoDevice => "Spravato 28 mg device".to_owned(),
        }
    }

    /// Checks a vial's strength and volume.
    pub fn check(self) -> Result<(), LedgerRefusal> {
        match self {
            Form::Vial { mg_per_ml, ml } => {
                if !VIAL_STRENGTHS_MG_PER_ML.contains(&mg_per_ml) {
                    return Err(LedgerRefusal::Strength);
                }
                if !(ml.is_finite() && ml > 0.0 && self.full_mg() <= CONTAINER_MAX_MG) {
                    return Err(LedgerRefusal::Volume);
                }
                Ok(())
            }
            Form::SpravatoDevice => Ok(()),
        }
    }
}

/// The kinds of ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Containers received from a supplier (invoice, supplier's name, address, DEA number).
    Receipt,
    /// Given to a patient in a session.
    Administration,
    /// The remainder after administration, wasted (method, witness).
    Waste,
    /// Moved out of a location (to another location or site).
    TransferOut,
    /// Moved into a location.
    TransferIn,
    /// Returned to the supplier or a reverse distributor.
    Return,
    /// Broken or spilled, witnessed.
    Breakage,
    /// Lost (significant loss opens the DEA notice and Form 106).
    Loss,
    /// Stolen (opens the DEA notice and Form 106).
    Theft,
    /// A physical count that matched what was expected.
    Count,
    /// A physical count that did not: the difference, with an explanation.
    Discrepancy,
    /// The initial inventory (first day of handling).
    InitialInventory,
    /// The biennial inventory.
    BiennialInventory,
    /// A correction of an earlier entry, by amount, referencing it.
    Correction,
}

impl EntryKind {
    /// Every kind.
    pub const ALL: [EntryKind; 14] = [
        EntryKind::Receipt,
        EntryKind::Administration,
        EntryKind::Waste,
        EntryKind::TransferOut,
        EntryKind::TransferIn,
        EntryKind::Return,
        EntryKind::Breakage,
        EntryKind::Loss,
        EntryKind::Theft,
        EntryKind::Count,
        EntryKind::Discrepancy,
        EntryKind::InitialInventory,
        EntryKind::BiennialInventory,
        EntryKind::Correction,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            EntryKind::Receipt => "receipt",
            EntryKind::Administration => "administration",
            EntryKind::Waste => "waste",
            EntryKind::TransferOut => "transfer_out",
            EntryKind::TransferIn => "transfer_in",
            EntryKind::Return => "return",
            EntryKind::Breakage => "breakage",
            EntryKind::Loss => "loss",
            EntryKind::Theft => "theft",
            EntryKind::Count => "count",
            EntryKind::Discrepancy => "discrepancy",
            EntryKind::InitialInventory => "initial_inventory",
            EntryKind::BiennialInventory => "biennial_inventory",
            EntryKind::Correction => "correction",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Receipt => "Receipt",
            EntryKind::Administration => "Administration",
            EntryKind::Waste => "Waste",
            EntryKind::TransferOut => "Transfer out",
            EntryKind::TransferIn => "Transfer in",
            EntryKind::Return => "Return to supplier",
            EntryKind::Breakage => "Breakage",
            EntryKind::Loss => "Loss",
            EntryKind::Theft => "Theft",
            EntryKind::Count => "Count",
            EntryKind::Discrepancy => "Count discrepancy",
            EntryKind::InitialInventory => "Initial inventory",
            EntryKind::BiennialInventory => "Biennial inventory",
            EntryKind::Correction => "Correction",
        }
    }

    /// How the entry's amount moves the balance: +1 adds, -1 takes away, 0 records without
    /// moving (counts and inventories); a discrepancy and a correction carry their own sign.
    pub fn direction(self) -> i8 {
        match self {
            EntryKind::Receipt | EntryKind::TransferIn => 1,
            EntryKind::Administration
            | EntryKind::Waste
            | EntryKind::TransferOut
            | EntryKind::Return
            | EntryKind::Breakage
            | EntryKind::Loss
            | EntryKind::Theft => -1,
            EntryKind::Count | EntryKind::InitialInventory | EntryKind::BiennialInventory => 0,
            EntryKind::Discrepancy | EntryKind::Correction => 0,
        }
    }

    /// How much an entry of `amount_mg` changes a container's balance: the amount added or
    /// taken by the kind's direction, a discrepancy's or correction's own signed amount, and
    /// nothing for a count or an inventory. The one rule `apply`, the store's take and the
    /// ledger's verification all use.
    pub fn delta(self, amount_mg: f64) -> f64 {
        match self.direction() {
            1 => amount_mg,
            -1 => -amount_mg,
            _ if matches!(self, EntryKind::Discrepancy | EntryKind::Correction) => amount_mg,
            _ => 0.0,
        }
    }

    /// Whether a second person must witness it with their own password (when witnessing is
    /// on): waste and breakage.
    pub fn needs_witness(self) -> bool {
        matches!(self, EntryKind::Waste | EntryKind::Breakage)
    }

    /// Whether it needs an explanation in words.
    pub fn needs_explanation(self) -> bool {
        matches!(
            self,
            EntryKind::Discrepancy
                | EntryKind::Correction
                | EntryKind::Breakage
                | EntryKind::Loss
                | EntryKind::Theft
        )
    }

    /// Whether it opens the DEA notice and Form 106 tasks.
    pub fn opens_dea_report(self) -> bool {
        matches!(self, EntryKind::Loss | EntryKind::Theft)
    }
}

/// Why an entry cannot be written, in words for the person filling the form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LedgerRefusal {
    /// The amount is not a positive number of mg within a container's size.
    #[error("enter the amount in mg, more than 0 and at most {CONTAINER_MAX_MG}")]
    Amount,
    /// More than the container holds.
    #[error("the container holds {balance_mg:.3} mg; {amount_mg:.3} mg would take it below zero")]
    BelowZero {
        /// What the container holds.
        balance_mg: f64,
        /// What the entry would take.
        amount_mg: f64,
    },
    /// The vial strength is not one on the market.
    #[error("choose a vial strength of 10, 50 or 100 mg/mL")]
    Strength,
    /// The vial volume is not a volume.
    #[error("enter the vial's volume in mL, more than 0")]
    Volume,
    /// No witness for a waste or breakage.
    #[error("a second person witnesses this with their own password")]
    WitnessMissing,
    /// The witness is the person writing the entry.
    #[error("the witness must be someone other than you")]
    WitnessIsActor,
    /// The witness's password was wrong.
    #[error("that password is not the witness's; they enter their own")]
    WitnessPassword,
    /// The witness named is not a nurse or prescriber of this clinic who may sign in.
    #[error(
        "the witness is a nurse or prescriber of this clinic: enter the email they sign in with"
    )]
    WitnessNotStaff,
    /// The witness's account is locked after too many wrong passwords.
    #[error(
        "the witness's account is locked after too many wrong passwords; another nurse or prescriber can witness, or the administrator can unlock it"
    )]
    WitnessLocked,
    /// An explanation is needed.
    #[error("explain what happened (at least 10 characters)")]
    ExplanationMissing,
    /// A text is missing where it is needed, too long, or holds a control character.
    #[error("{}", problem.said_of(field.words()))]
    Text {
        /// Which text.
        field: TextField,
        /// What is wrong with it.
        problem: TextProblem,
    },
    /// The NDC is not digits in one of the NDC's layouts.
    #[error(
        "an NDC is 10, 11 or 12 digits in three groups as printed on the package, such as 0143-9508-10 or 50458-028-02"
    )]
    Ndc,
    /// The number of containers received is not from 1 to [`MAX_CONTAINERS`].
    #[error("give the number of vials or devices received, from 1 to {MAX_CONTAINERS}")]
    Containers,
    /// A DEA number is not two letters (or a letter and 9) and seven digits.
    #[error(
        "a DEA registration number is two letters and seven digits, such as AB1234563 (the second may be 9)"
    )]
    DeaNumber,
    /// A DEA number's last digit does not follow from the others: a typing error.
    #[error(
        "the last digit of this DEA number does not match the others; check it against the supplier's invoice"
    )]
    DeaCheckDigit,
    /// A count equal to what is expected is not a discrepancy (and the reverse).
    #[error("the count matches what is expected; record it as a count")]
    NoDifference,
    /// The container is already empty and closed.
    #[error("the container is empty")]
    Empty,
    /// A place that is neither a safe nor a locked cabinet.
    #[error("choose a safe or a locked cabinet")]
    PlaceKind,
}

/// Applies an entry's amount to a container's balance: the new balance, or why not. `amount_mg`
/// is what the entry moves (always positive but for a discrepancy or correction, whose sign
/// is the direction).
pub fn apply(kind: EntryKind, balance_mg: f64, amount_mg: f64) -> Result<f64, LedgerRefusal> {
    if !amount_mg.is_finite() || amount_mg.abs() > CONTAINER_MAX_MG {
        return Err(LedgerRefusal::Amount);
    }
    if kind.direction() != 0 && amount_mg <= 0.0 {
        return Err(LedgerRefusal::Amount);
    }
    let delta = kind.delta(amount_mg);
    let after = balance_mg + delta;
    if after < -MG_EPSILON {
        return Err(LedgerRefusal::BelowZero {
            balance_mg,
            amount_mg: -delta,
        });
    }
    Ok(if after.abs() < MG_EPSILON { 0.0 } else { after })
}

/// A physical count against the expected balance: `None` when it matches (a count), or the
/// signed difference (counted minus expected) for a discrepancy entry.
pub fn count_difference(expected_mg: f64, counted_mg: f64) -> Result<Option<f64>, LedgerRefusal> {
    if !counted_mg.is_finite() || !(0.0..=CONTAINER_MAX_MG).contains(&counted_mg) {
        return Err(LedgerRefusal::Amount);
    }
    let d = counted_mg - expected_mg;
    Ok((d.abs() >= MG_EPSILON).then_some(d))
}

/// Checks the witness rules for `kind`: `witness` is the witness's account (if any) and
/// `password_ok` whether they gave their own password.
pub fn check_witness<T: PartialEq>(
    kind: EntryKind,
    witnessing_on: bool,
    actor: &T,
    witness: Option<&T>,
    password_ok: bool,
) -> Result<(), LedgerRefusal> {
    if !(kind.needs_witness() && witnessing_on) {
        return Ok(());
    }
    match witness {
        None => Err(LedgerRefusal::WitnessMissing),
        Some(w) if w == actor => Err(LedgerRefusal::WitnessIsActor),
        Some(_) if !password_ok => Err(LedgerRefusal::WitnessPassword),
        Some(_) => Ok(()),
    }
}

/// Checks an explanation where `kind` needs one: at least 10 characters after trimming.
pub fn check_explanation(kind: EntryKind, text: Option<&str>) -> Result<(), LedgerRefusal> {
    if kind.needs_explanation() && text.is_none_or(|t| t.trim().chars().count() < 10) {
        return Err(LedgerRefusal::ExplanationMissing);
    }
    Ok(())
}

/// The digits of each group of an NDC written with hyphens, labeler-product-package. Ten digits
/// in all in the FDA's three layouts (4-4-2, 5-3-2, 5-4-1: FDA, National Drug Code Directory,
/// <https://www.fda.gov/drugs/drug-approvals-and-databases/national-drug-code-directory>);
/// eleven in the HIPAA billing layout, which pads one group with a zero to 5-4-2, and in the
/// layouts of six-digit labeler codes once the FDA assigns them, 6-3-2 and 6-4-1 (21 CFR
/// 207.33); twelve in the one layout every FDA-assigned NDC takes under the final rule
/// "Revising the National Drug Code Format and Drug Label Barcode Requirements" (91 FR 10749,
/// 5 March 2026; effective 7 March 2033, with labels of products listed before then changing
/// over the following three years), 6-4-2.
pub const NDC_LAYOUTS: [[usize; 3]; 7] = [
    [4, 4, 2],
    [5, 3, 2],
    [5, 4, 1],
    [5, 4, 2],
    [6, 3, 2],
    [6, 4, 1],
    [6, 4, 2],
];

/// Checks a National Drug Code as typed from the package: three groups of digits joined by
/// hyphens in one of [`NDC_LAYOUTS`], or 10 to 12 digits without them. Returns it trimmed. A
/// code that passes is well formed, not listed: only the FDA's directory says that.
pub fn check_ndc(input: &str) -> Result<&str, LedgerRefusal> {
    let t = input.trim();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let groups: Vec<&str> = t.split('-').collect();
    let ok = match groups.as_slice() {
        [whole] => digits(whole) && (10..=12).contains(&whole.len()),
        [a, b, c] => {
            [a, b, c].iter().all(|g| digits(g))
                && NDC_LAYOUTS.contains(&[a.len(), b.len(), c.len()])
        }
        _ => false,
    };
    if ok { Ok(t) } else { Err(LedgerRefusal::Ndc) }
}

/// Checks a DEA registration number and returns it in capitals: a letter for the kind of
/// registrant; the first letter of the registrant's last or business name, or `9` for a
/// registrant known by a business name that does not start with a letter; six digits; and a
/// check digit, the last digit of (1st + 3rd + 5th digit) + 2 × (2nd + 4th + 6th digit).
///
/// Sources for the layout (the 9 included) and the check digit: the article "DEA number" of the
/// English Wikipedia, which cites the DEA Diversion Control Division's registration pages
/// (<https://www.deadiversion.usdoj.gov/drugreg/>); the same check digit rule, with the worked
/// example AP5836727, at <http://www.takerx.com/verify.html>, and at
/// <http://www.uspharmd.com/student/dea_number/>. A number that passes is well formed, not
/// registered: only the DEA's own lookup says that.
pub fn check_dea_number(input: &str) -> Result<String, LedgerRefusal> {
    let t = input.trim().to_ascii_uppercase();
    let b = t.as_bytes();
    let well_formed = b.len() == 9
        && b[0].is_ascii_uppercase()
        && (b[1].is_ascii_uppercase() || b[1] == b'9')
        && b[2..].iter().all(u8::is_ascii_digit);
    if !well_formed {
        return Err(LedgerRefusal::DeaNumber);
    }
    let d: Vec<u32> = b[2..].iter().map(|c| u32::from(c - b'0')).collect();
    let check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
    if check == d[6] {
        Ok(t)
    } else {
        Err(LedgerRefusal::DeaCheckDigit)
    }
}

/// The deadlines a theft or significant loss discovered on `discovered` opens: the written
/// notice to the DEA field division (the next business day, Monday to Friday; federal holidays
/// are not counted out, so the date is never later than the rule's) and DEA Form 106 (45
/// calendar days).
pub fn dea_deadlines(discovered: Date) -> (Date, Date) {
    let mut notice = discovered;
    let mut left = NOTICE_BUSINESS_DAYS;
    while left > 0 {
        // ok: the calendar's last day has no tomorrow; no discovery date comes near it.
        notice = notice.tomorrow().unwrap_or(notice);
        if !matches!(notice.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    // ok: as above, only a date at the calendar's end has no day 45 days later.
    let form = discovered
        .checked_add(FORM_106_DAYS.days())
        .unwrap_or(discovered);
    (notice, form)
}

/// The last day on which the next biennial inventory may be taken, after an inventory taken
/// on `last`: at least every two years after the initial inventory, on any date within two
/// years of the previous one (21 CFR 1304.11(c)). A 29 February counts to the 28th two years
/// on, the earlier day.
pub fn next_inventory_due(last: Date) -> Date {
    let due = last.checked_add(i64::from(INVENTORY_YEARS).years());
    // ok: only a date in the calendar's last two years has no date two years on; it is then
    // its own deadline, which is never later than the rule's.
    due.unwrap_or(last)
}

/// Days an opened vial may be drawn from after it was first entered, unless its manufacturer
/// says otherwise: the beyond-use date of an opened or needle-punctured multiple-dose vial is
/// 28 days after (USP General Chapter <797>; the CDC's injection-safety answers on multi-dose
/// vials: "dated and discarded within 28 days unless the manufacturer specifies a different
/// (shorter or longer) date"). A setting (`ledger.opened_vial_days`); 0 makes every vial single
/// use.
pub const OPENED_VIAL_DAYS: u32 = 28;

/// What makes stock usable on a day: its labelled expiry, and for a vial already drawn from,
/// the days since it was first entered.
#[derive(Debug, Clone)]
pub struct StockRule {
    /// The clinic's date today.
    pub today: Date,
    /// The clinic's time zone, in which a vial's opening instant falls on a date.
    pub zone: jiff::tz::TimeZone,
    /// Days an opened vial may be used ([`OPENED_VIAL_DAYS`] by default).
    pub opened_vial_days: u32,
}

/// Why a container may not be drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Its lot's labelled expiry date has passed.
    Expired {
        /// The labelled expiry date.
        on: Date,
    },
    /// It was first entered too long ago.
    BeyondUse {
        /// The day it was first drawn from.
        opened_on: Date,
        /// Its beyond-use date: the first day it may no longer be used.
        from: Date,
    },
}

impl StockRule {
    /// Whether a container of a lot expiring on `expires_on`, first drawn from at `opened_at`
    /// (none while untouched), may be drawn from today. A vial's beyond-use date is
    /// `opened_vial_days` after the day it was opened, and it is not used on or after it.
    pub fn check(
        &self,
        expires_on: Date,
        opened_at: Option<jiff::Timestamp>,
    ) -> Result<(), Unusable> {
        if expired(expires_on, self.today) {
            return Err(Unusable::Expired { on: expires_on });
        }
        if let Some(at) = opened_at {
            let (opened_on, from) = self.beyond_use_date(at);
            if self.today >= from {
                return Err(Unusable::BeyondUse { opened_on, from });
            }
        }
        Ok(())
    }

    /// The day a vial first drawn from at `opened_at` was opened, at the clinic, and its
    /// beyond-use date: the first day it may no longer be used.
    pub fn beyond_use_date(&self, opened_at: jiff::Timestamp) -> (Date, Date) {
        let opened_on = opened_at.to_zoned(self.zone.clone()).date();
        let from = opened_on.checked_add(i64::from(self.opened_vial_days).days());
        // ok: only a vial opened at the calendar's end has no day after; it is then beyond
        // use at once, the safe side.
        (opened_on, from.unwrap_or(opened_on))
    }
}

/// Whether stock labelled to expire on `expires_on` has expired on `today`: a product may be
/// used through its labelled expiration date and not after it (USP General Chapter <7>
/// Labeling: the expiration date is the date after which the product must not be used; one
/// printed as a month and year means that month's last day, which is what the receipt form
/// asks staff to enter). Expired controlled-substance stock stays in the ledger until it is
/// returned to the supplier or a reverse distributor, or wasted (research `clinical.md` §6.4).
pub fn expired(expires_on: Date, today: Date) -> bool {
    today > expires_on
}

#[cfg(test)]
mod tests;
