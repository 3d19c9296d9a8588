//! The controlled-substance ledger as the clinic keeps it: stock by container with its balance,
//! receipts, waste (witnessed), returns, breakage, loss and theft (with the DEA deadlines they
//! open), counts, inventories, the check of the hash chain, the dispensing log (printable and
//! CSV) and the reconciliation of what sessions gave with what the ledger took.
//! Nurses and prescribers write; the clinic's administrator reads the reports (without
//! patient names); front desk sees nothing of it.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::ledger::{self, EntryKind, Form as Product, LedgerRefusal};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use store::{NewEntry, Receipt, Role, Supplier, Witness};

use super::{FormErrors, Posted, sentence};
use crate::AppState;
use crate::capability::{Can, ClinicalData, LedgerReports};
use crate::error::AppError;
use crate::view::{PageCtx, StaffNames, render};

/// An entry's details in words for the log: a receipt's paperwork as the DEA's record of it
/// reads, or an inventory's count (they were shown as the stored JSON).
fn details_words(d: &store::EntryDetails) -> String {
    match d {
        store::EntryDetails::Receipt {
            supplier,
            address,
            dea_number,
            invoice,
            ndc,
            lot,
            expires_on,
            form,
        } => format!(
            "{form} from {supplier}, {address} (DEA {dea_number}); invoice {invoice}; NDC {ndc}; lot {lot}, expires {expires_on}"
        ),
        store::EntryDetails::Inventory { containers: 1 } => "1 container counted".to_owned(),
        store::EntryDetails::Inventory { containers } => format!("{containers} containers counted"),
    }
}

/// A cell of typed text (a name, a lot, a note) as a spreadsheet must read it: text that starts
/// as a formula would (`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, so
/// opening the export runs nothing a patient or a supplier's paperwork put in a name or a lot
/// (OWASP, "CSV Injection"). Amounts and balances are written by Ketaflow and left as they are.
fn as_text(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The answer to a CSV export of a period with more lines than a report holds
/// ([`crate::Limits::report_lines`]): an export is a record, so it is refused whole rather than
/// cut short without a word.
fn too_long_to_export() -> Response {
    crate::error::error_page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "The period is too long to export",
        "It holds more ledger entries than one export may hold. Export it in shorter periods, such as a month at a time.",
    )
}

/// Every field the ledger's forms send; each handler reads its own.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LedgerForm {
    location_name: String,
    location_kind: String,
    form: String,
    mg_per_ml: String,
    ml: String,
    containers: String,
    ndc: String,
    lot: String,
    expires_on: String,
    supplier_name: String,
    supplier_address: String,
    supplier_dea: String,
    invoice: String,
    location: String,
    kind: String,
    container: String,
    amount_mg: String,
    method: String,
    explanation: String,
    witness_email: String,
    witness_password: String,
    counted_mg: String,
    inventory: String,
    to_location: String,
    task_seq: String,
    task_kind: String,
}

pub(crate) struct TaskRow {
    what: String,
    due: String,
    overdue: bool,
    seq: i64,
    kind: String,
}

pub(crate) struct StockRow {
    id: String,
    what: String,
    lot: String,
    location: String,
    balance: String,
    expires: String,
    expired: bool,
    /// When a dose was first drawn from it and the first day it may no longer be used, in
    /// words; empty while untouched.
    opened: String,
    /// Past its days since it was opened.
    beyond_use: bool,
}

/// A lot in stock: its containers together, as a count is checked.
pub(crate) struct LotRow {
    lot: String,
    what: String,
    containers: u32,
    opened: u32,
    holds: String,
    expires: String,
    expired: bool,
}

#[derive(Template)]
#[template(path = "ledger/index.html")]
pub(crate) struct LedgerPage {
    ctx: PageCtx,
    can_write: bool,
    /// Stock on hand: the containers that still hold drug.
    stock: Vec<StockRow>,
    /// The same stock by lot, with what each lot holds together.
    lots: Vec<LotRow>,
    /// Opened vials past their days, in words.
    beyond_use: Vec<String>,
    /// How many containers are empty (not listed; their movements are in the ledger).
    emptied: i64,
    locations: Vec<(String, String)>,
    transfer_targets: Vec<(String, String)>,
    tasks: Vec<TaskRow>,
    /// The last inventory and when the next is due, in words; urgent when overdue.
    inventory: (String, bool),
    /// Whether any inventory is recorded (the initial one is then behind the clinic).
    inventory_taken: bool,
    kinds: Vec<(&'static str, &'static str)>,
    form: LedgerForm,
    /// The form the values in `form` were sent with (`entry`, `count`, `transfer`, ...).
    posted: Posted,
    errors: FormErrors,
    notice: Option<String>,
}

/// What makes stock usable at the clinic on `today`: its expiry, and an opened vial's days
/// (`ledger.opened_vial_days`).
pub(crate) fn stock_rule(state: &AppState, ctx: &PageCtx, today: Date) -> ledger::StockRule {
    ledger::StockRule {
        today,
        zone: ctx.time_zone(),
        opened_vial_days: state.config().opened_vial_days,
    }
}

/// When a container was first drawn from and the first day it may no longer be used:
/// "2026-12-07, not used from 2027-01-04"; empty while untouched.
fn opened_words(c: &store::ContainerRecord, rule: &ledger::StockRule) -> String {
    c.opened_at.map_or_else(String::new, |at| {
        let (opened_on, from) = rule.beyond_use_date(at);
        format!("{opened_on}, not used from {from}")
    })
}

/// The opened vials past their days, in words: what each holds and what to do.
fn beyond_use(containers: &[store::ContainerRecord], rule: &ledger::StockRule) -> Vec<String> {
    containers
        .iter()
        .filter_map(|c| match rule.check(c.expires_on, c.opened_at) {
            Err(ledger::Unusable::BeyondUse { opened_on, from }) => Some(format!(
                "{} #{} of lot {} was opened on {opened_on} and is not used from {from}; it holds {}: waste it with a witness",
                c.form.label(),
                c.number,
                c.lot,
                held(c.form, c.balance_mg)
            )),
            _ => None,
        })
        .collect()
}

/// An amount in a container's words: mg, and mL for a vial.
fn held(form: Product, mg: f64) -> String {
    match form.ml_for(mg) {
        Some(ml) => format!("{mg:.1} mg ({ml:.2} mL)"),
        None => format!("{mg:.1} mg"),
    }
}

/// The containers in stock by lot, in the order they come (by lot number).
fn lot_rows(containers: &[store::ContainerRecord], today: Date) -> Vec<LotRow> {
    store::LotInStock::group(containers)
        .into_iter()
        .map(|l| LotRow {
            what: l.form.label(),
            containers: l.containers,
            opened: l.opened,
            holds: held(l.form, l.held_mg),
            expires: l.expires_on.to_string(),
            expired: ledger::expired(l.expires_on, today),
            lot: l.lot,
        })
        .collect()
}

/// The DEA reports still to make, soonest first.
fn task_rows(tasks: Vec<(String, Date, i64)>, today: Date) -> Vec<TaskRow> {
    tasks
        .into_iter()
        .map(|(kind, due, seq)| {
            let what = match kind.as_str() {
                "field_division_notice" => "Written notice to the DEA field division",
                _ => "DEA Form 106 (theft or significant loss), filed online",
            };
            TaskRow {
                what: format!("{what}, for entry {seq}"),
                due: due.to_string(),
                overdue: due < today,
                seq,
                kind,
            }
        })
        .collect()
}

/// The last inventory and the day the next is due by, in words, and whether it is overdue
/// (or none was ever taken).
fn inventory_words(last: Option<(EntryKind, Timestamp)>, ctx: &PageCtx) -> (String, bool) {
    match last {
        None => (
            "No inventory is recorded. The initial inventory is taken on the first day the clinic handles controlled substances (a zero when there is nothing on hand).".to_owned(),
            true,
        ),
        Some((kind, at)) => {
            let on = at.to_zoned(ctx.time_zone()).date();
            let due = ledger::next_inventory_due(on);
            let overdue = ctx.today() > due;
            (
                format!(
                    "The last inventory: {} on {on}. The next, the biennial inventory, {} {due} (at least every two years).",
                    kind.label().to_lowercase(),
                    if overdue { "was due by" } else { "is due by" }
                ),
                overdue,
            )
        }
    }
}

/// How many days before the biennial inventory's last day the start page reminds of it (a
/// reminder of Ketaflow's, not a rule).
const INVENTORY_REMINDER_DAYS: i32 = 30;

/// Something the controlled-substance record needs done, for the start page.
pub(crate) struct ToSeeTo {
    pub(crate) text: String,
    pub(crate) urgent: bool,
}

/// What a site's ledger needs done: the DEA reports due, an inventory due within
/// [`INVENTORY_REMINDER_DAYS`] or overdue (or none taken while stock is held), and expired lots
/// still in stock.
pub(crate) async fn to_see_to(
    state: &AppState,
    site: &store::SiteId,
    ctx: &PageCtx,
) -> Result<Vec<ToSeeTo>, AppError> {
    let store = state.store();
    let today = ctx.today();
    let mut out: Vec<ToSeeTo> = task_rows(store.open_dea_tasks(site).await?, today)
        .into_iter()
        .map(|t| ToSeeTo {
            text: if t.overdue {
                format!("{}: overdue since {}", t.what, t.due)
            } else {
                format!("{}: due by {}", t.what, t.due)
            },
            urgent: t.overdue,
        })
        .collect();
    let containers = store.cs_stock(site).await?;
    let last = store
        .last_inventory(site)
        .await?
        .map(|(_, at)| at.to_zoned(ctx.time_zone()).date());
    out.extend(inventory_note(last, !containers.is_empty(), today));
    out.extend(
        beyond_use(&containers, &stock_rule(state, ctx, today))
            .into_iter()
            .map(|text| ToSeeTo {
                text,
                urgent: false,
            }),
    );
    out.extend(
        lot_rows(&containers, today)
            .into_iter()
            .filter(|l| l.expired)
            .map(|l| ToSeeTo {
                text: format!(
                    "Lot {} ({}, {} holding {}) expired on {}: return or waste it",
                    l.lot, l.what, l.containers, l.holds, l.expires
                ),
                urgent: false,
            }),
    );
    Ok(out)
}

/// What the start page says of the inventory, given the day the last was taken (if any) and
/// whether the ledger holds stock: nothing while the next is more than
/// [`INVENTORY_REMINDER_DAYS`] away.
fn inventory_note(last: Option<Date>, holds_stock: bool, today: Date) -> Option<ToSeeTo> {
    let Some(last) = last else {
        return holds_stock.then(|| ToSeeTo {
            text: "No initial inventory is recorded, while the ledger holds stock".to_owned(),
            urgent: true,
        });
    };
    let due = ledger::next_inventory_due(last);
    if today > due {
        Some(ToSeeTo {
            text: format!("The biennial inventory: overdue since {due}"),
            urgent: true,
        })
    } else if (due - today).get_days() <= INVENTORY_REMINDER_DAYS {
        Some(ToSeeTo {
            text: format!("The biennial inventory: due by {due}"),
            urgent: false,
        })
    } else {
        None
    }
}

fn number(errors: &mut FormErrors, field: &str, words: &str, v: &str) -> Option<f64> {
    match v.trim().replace(',', ".").parse::<f64>() {
        Ok(n) if n.is_finite() => Some(n),
        _ => {
            errors.push(field, format!("Enter the {words} as a number."));
            None
        }
    }
}

async fn page(
    state: &AppState,
    who: &Can<LedgerReports>,
    ctx: PageCtx,
    (form, posted): (LedgerForm, &'static str),
    errors: FormErrors,
    notice: Option<String>,
) -> Result<LedgerPage, AppError> {
    let site = &who.user().site_id;
    let store = state.store();
    let emptied = store.cs_emptied(site).await?;
    let today = ctx.today();
    let containers = store.cs_stock(site).await?;
    let lots = lot_rows(&containers, today);
    let rule = stock_rule(state, &ctx, today);
    let beyond_use = beyond_use(&containers, &rule);
    let stock = containers
        .into_iter()
        .map(|c| {
            let opened = opened_words(&c, &rule);
            StockRow {
                what: format!("{} #{}", c.form.label(), c.number),
                balance: held(c.form, c.balance_mg),
                expires: c.expires_on.to_string(),
                expired: ledger::expired(c.expires_on, today),
                beyond_use: matches!(
                    rule.check(c.expires_on, c.opened_at),
                    Err(ledger::Unusable::BeyondUse { .. })
                ),
                opened,
                lot: c.lot,
                location: c.location,
                id: c.id,
            }
        })
        .collect();
    let tasks = task_rows(store.open_dea_tasks(site).await?, today);
    let last_inventory = store.last_inventory(site).await?;
    let inventory_taken = last_inventory.is_some();
    let inventory = inventory_words(last_inventory, &ctx);
    Ok(LedgerPage {
        can_write: matches!(who.user().role, Role::Nurse | Role::Prescriber),
        stock,
        lots,
        beyond_use,
        emptied,
        locations: store
            .cs_locations(site)
            .await?
            .into_iter()
            .map(|l| (l.id, l.name))
            .collect(),
        transfer_targets: store
            .all_cs_locations()
            .await?
            .into_iter()
            .map(|(id, site, name)| (id, format!("{site}: {name}")))
            .collect(),
        tasks,
        inventory,
        inventory_taken,
        kinds: [
            EntryKind::Waste,
            EntryKind::Return,
            EntryKind::Breakage,
            EntryKind::Loss,
            EntryKind::Theft,
        ]
        .iter()
        .map(|k| (k.code(), k.label()))
        .collect(),
        form,
        posted: Posted(posted.to_owned()),
        errors,
        notice,
        ctx,
    })
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
    /// A container whose remainder is to be wasted: the entry form starts filled for it.
    waste: Option<String>,
}

/// `GET /ledger`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<LedgerReports>,
    ctx: PageCtx,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("location") => Some("The location is added.".to_owned()),
        Some("receipt") => Some("The receipt is in the ledger.".to_owned()),
        Some("entry") => Some("The entry is in the ledger.".to_owned()),
        Some("count") => Some("The count is in the ledger.".to_owned()),
        Some("inventory") => Some("The inventory is in the ledger.".to_owned()),
        Some("transfer") => Some("The move is in the ledger.".to_owned()),
        Some("task") => Some("Recorded as done today.".to_owned()),
        _ => None,
    };
    let mut form = LedgerForm::default();
    if let Some(id) = q.waste.as_deref() {
        let site = &who.user().site_id;
        if let Some(c) = state
            .store()
            .cs_containers_among(site, &[id.to_owned()])
            .await?
            .into_iter()
            .find(|c| c.balance_mg > 0.0)
        {
            form.kind = EntryKind::Waste.code().to_owned();
            form.amount_mg = format!("{}", c.balance_mg);
            form.container = c.id;
        }
    }
    // A waste the session room sends here fills in the entry form.
    render(
        &page(
            &state,
            &who,
            ctx,
            (form, "entry"),
            FormErrors::default(),
            notice,
        )
        .await?,
    )
}

fn refusal_words(e: &LedgerRefusal) -> String {
    sentence(&e.to_string())
}

/// `POST /ledger/{action}`: a location, a receipt, an entry, a count or an inventory.
pub(crate) async fn act(
    State(state): State<AppState>,
    clinical_who: Can<ClinicalData>,
    who: Can<LedgerReports>,
    ctx: PageCtx,
    axum::extract::Path(action): axum::extract::Path<String>,
    Form(form): Form<LedgerForm>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let actor = clinical_who.actor();
    let site = clinical_who.user().site_id.clone();
    let store = state.store();
    let mut errors = FormErrors::default();
    let done = match action.as_str() {
        "location" => {
            match clinical::ledger::NewPlace::parse(&form.location_name, &form.location_kind) {
                Ok(place) => {
                    if let Err(taken) = store.add_cs_location(&actor, &site, &place, now).await? {
                        errors.push("location_name", sentence(&taken.to_string()));
                    }
                }
                Err(refusals) => {
                    for refusal in refusals {
                        let field = match refusal {
                            LedgerRefusal::Text { field, .. } => field.code(),
                            _ => "location_kind",
                        };
                        errors.push(field, refusal_words(&refusal));
                    }
                }
            }
            "location"
        }
        "receipt" => {
            let product = match form.form.as_str() {
                "vial" => {
                    let strength = form.mg_per_ml.trim().parse::<u32>().ok();
                    if strength.is_none() {
                        errors.push("mg_per_ml", "Choose the vial strength.");
                    }
                    let ml = number(&mut errors, "ml", "vial volume in mL", &form.ml);
                    strength
                        .zip(ml)
                        .map(|(mg_per_ml, ml)| Product::Vial { mg_per_ml, ml })
                }
                "spravato_device" => Some(Product::SpravatoDevice),
                _ => {
                    errors.push(
                        "form",
                        "Choose what was received: vials or Spravato devices.",
                    );
                    None
                }
            };
            let containers = form.containers.trim().parse::<u32>().ok();
            if containers.is_none() {
                errors.push(
                    "containers",
                    "Enter how many vials or devices, a whole number.",
                );
            }
            let expires = form.expires_on.trim().parse::<jiff::civil::Date>().ok();
            match expires {
                None => errors.push("expires_on", "Enter the expiry date as YYYY-MM-DD."),
                Some(d) if ledger::expired(d, ctx.today()) => errors.push(
                    "expires_on",
                    "That lot has expired; do not receive it into stock.",
                ),
                Some(_) => {}
            }
            if !store
                .cs_locations(&site)
                .await?
                .iter()
                .any(|l| l.id == form.location)
            {
                errors.push("location", "Choose where the stock is put.");
            }
            let supplier = Supplier {
                name: form.supplier_name.clone(),
                address: form.supplier_address.clone(),
                dea_number: form.supplier_dea.clone(),
                invoice: form.invoice.clone(),
            };
            if let (Some(product), Some(containers), Some(expires_on), true) =
                (product, containers, expires, errors.is_empty())
            {
                let receipt = Receipt {
                    form: product,
                    ndc: &form.ndc,
                    lot: &form.lot,
                    expires_on,
                    supplier: &supplier,
                    containers,
                    location_id: &form.location,
                };
                if let Err(e) = store.receive_stock(&actor, &site, &receipt, now).await? {
                    let field = match e {
                        LedgerRefusal::DeaNumber | LedgerRefusal::DeaCheckDigit => "supplier_dea",
                        LedgerRefusal::Strength => "mg_per_ml",
                        LedgerRefusal::Volume => "ml",
                        LedgerRefusal::Ndc => "ndc",
                        LedgerRefusal::Containers => "containers",
                        LedgerRefusal::Text { field, .. } => field.code(),
                        _ => "supplier_name",
                    };
                    errors.push(field, refusal_words(&e));
                }
            }
            "receipt"
        }
        "entry" => {
            let kind = EntryKind::parse(form.kind.trim()).filter(|k| {
                matches!(
                    k,
                    EntryKind::Waste
                        | EntryKind::Return
                        | EntryKind::Breakage
                        | EntryKind::Loss
                        | EntryKind::Theft
                )
            });
            if kind.is_none() {
                errors.push("kind", "Choose what happened.");
            }
            let amount = number(&mut errors, "amount_mg", "amount in mg", &form.amount_mg);
            if form.container.trim().is_empty() {
                errors.push("container", "Choose the vial or device.");
            }
            if let (Some(kind), Some(amount), true) = (kind, amount, errors.is_empty()) {
                let trimmed = |s: &str| {
                    let t = s.trim();
                    (!t.is_empty()).then(|| t.to_owned())
                };
                let method = trimmed(&form.method);
                let explanation = trimmed(&form.explanation);
                let sign_in = state.config().login;
                let entry = NewEntry {
                    witness: (!form.witness_email.trim().is_empty()).then_some(Witness {
                        email: &form.witness_email,
                        password: &form.witness_password,
                        sign_in: &sign_in,
                    }),
                    method: method.as_deref(),
                    explanation: explanation.as_deref(),
                    ..NewEntry::new(kind, form.container.trim(), amount)
                };
                match store
                    .write_ledger_entry(
                        &actor,
                        &site,
                        &entry,
                        state.config().ledger_witness,
                        ctx.today(),
                        now,
                    )
                    .await
                {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        let field = match e {
                            LedgerRefusal::WitnessMissing
                            | LedgerRefusal::WitnessIsActor
                            | LedgerRefusal::WitnessNotStaff => "witness_email",
                            LedgerRefusal::WitnessPassword | LedgerRefusal::WitnessLocked => {
                                "witness_password"
                            }
                            LedgerRefusal::ExplanationMissing => "explanation",
                            LedgerRefusal::Text { field, .. } => field.code(),
                            _ => "amount_mg",
                        };
                        errors.push(field, refusal_words(&e));
                    }
                    Err(store::StoreError::NotFound { .. }) => {
                        errors.push("container", "Choose a vial or device of this clinic.");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            "entry"
        }
        "count" => {
            let counted = number(
                &mut errors,
                "counted_mg",
                "amount counted in mg",
                &form.counted_mg,
            );
            if form.container.trim().is_empty() {
                errors.push("count_container", "Choose the vial or device counted.");
            }
            if let (Some(c), true) = (counted, errors.is_empty()) {
                let explanation = Some(form.explanation.trim()).filter(|t| !t.is_empty());
                match store
                    .count_container(
                        &actor,
                        &site,
                        form.container.trim(),
                        c,
                        explanation,
                        ctx.today(),
                        now,
                    )
                    .await
                {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        let field = match e {
                            LedgerRefusal::ExplanationMissing | LedgerRefusal::Text { .. } => {
                                "count_explanation"
                            }
                            _ => "counted_mg",
                        };
                        let words = if e == LedgerRefusal::ExplanationMissing {
                            "The count differs from what the ledger expects: explain the difference (at least 10 characters).".to_owned()
                        } else {
                            refusal_words(&e)
                        };
                        errors.push(field, words);
                    }
                    Err(store::StoreError::NotFound { .. }) => {
                        errors.push("count_container", "Choose a vial or device of this clinic.");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            "count"
        }
        "transfer" => {
            if form.container.trim().is_empty() {
                errors.push("transfer_container", "Choose the vial or device moved.");
            }
            if !store
                .all_cs_locations()
                .await?
                .iter()
                .any(|l| l.0 == form.to_location)
            {
                errors.push("to_location", "Choose where it goes.");
            }
            if errors.is_empty() {
                match store
                    .transfer_container(
                        &actor,
                        &site,
                        form.container.trim(),
                        &form.to_location,
                        now,
                    )
                    .await
                {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => errors.push("transfer_container", refusal_words(&e)),
                    Err(store::StoreError::NotFound { .. }) => {
                        errors.push(
                            "transfer_container",
                            "Choose a vial or device of this clinic.",
                        );
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            "transfer"
        }
        "task" => {
            let seq = form
                .task_seq
                .trim()
                .parse::<i64>()
                .map_err(|_| AppError::NotFound)?;
            if !matches!(
                form.task_kind.as_str(),
                "field_division_notice" | "form_106"
            ) {
                return Err(AppError::NotFound);
            }
            store
                .complete_dea_task(&actor, &site, seq, &form.task_kind, ctx.today(), now)
                .await?;
            "task"
        }
        "inventory" => {
            let kind = match form.inventory.as_str() {
                "initial" => Some(EntryKind::InitialInventory),
                "biennial" => Some(EntryKind::BiennialInventory),
                // Only a post made by hand lacks one of the two buttons' values.
                _ => {
                    errors.push(
                        "inventory",
                        "Choose which inventory to take: the initial or the biennial one.",
                    );
                    None
                }
            };
            if let Some(kind) = kind {
                store.take_inventory(&actor, &site, kind, now).await?;
            }
            "inventory"
        }
        _ => return Err(AppError::NotFound),
    };
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/ledger?done={done}")).into_response());
    }
    let page = page(&state, &who, ctx, (form, done), errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PeriodQuery {
    from: String,
    to: String,
    format: String,
    /// `inventory` for the inventory records only.
    kind: String,
}

/// A period's first and last dates and the instants that bound it.
type Period = (
    jiff::civil::Date,
    jiff::civil::Date,
    jiff::Timestamp,
    jiff::Timestamp,
);

/// What a period with a date that does not read gets back.
fn bad_dates() -> Response {
    crate::error::error_page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "The dates could not be read",
        "Give the From and To dates as YYYY-MM-DD, such as 2026-12-01.",
    )
}

/// The period asked for, in the clinic's dates (blank: the last 30 days to today); `None` when
/// a date does not read, so it is sent back in words ([`bad_dates`]), never replaced.
fn period(ctx: &PageCtx, q: &PeriodQuery) -> Option<Period> {
    let read = |v: &str| -> Option<Option<jiff::civil::Date>> {
        let t = v.trim();
        if t.is_empty() {
            Some(None)
        } else {
            t.parse().ok().map(Some)
        }
    };
    let to = read(&q.to)?.unwrap_or_else(|| ctx.today());
    // ok: 30 days before a real date always exists; the date itself otherwise.
    let from =
        read(&q.from)?.unwrap_or_else(|| to.checked_sub(jiff::Span::new().days(30)).unwrap_or(to));
    let tz = ctx.time_zone();
    // ok: only a date at the calendar's ends has no instant; the period then runs to that end.
    let start = from
        .to_zoned(tz.clone())
        .map_or(jiff::Timestamp::MIN, |z| z.timestamp());
    let end = to
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(tz).ok())
        .map_or(jiff::Timestamp::MAX, |z| z.timestamp());
    Some((from, to, start, end))
}

pub(crate) struct LogLine {
    seq: i64,
    time: String,
    kind: &'static str,
    what: String,
    amount: String,
    balance: String,
    patient: String,
    /// Who, by name (and the witness's).
    by: String,
    /// Who with the account's email, for the export an inspector may read away from the
    /// clinic's staff list.
    by_account: String,
    note: String,
}

#[derive(Template)]
#[template(path = "ledger/log.html")]
pub(crate) struct LogPage {
    ctx: PageCtx,
    title: &'static str,
    kind: &'static str,
    from: String,
    to: String,
    lines: Vec<LogLine>,
    /// How many lines the page holds, when the period has more.
    truncated: Option<u32>,
}

/// `GET /ledger/log?from=&to=[&format=csv]`: the dispensing log of a period.
pub(crate) async fn log(
    State(state): State<AppState>,
    who: Can<LedgerReports>,
    ctx: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let Some((from, to, start, end)) = period(&ctx, &q) else {
        return Ok(bad_dates());
    };
    let site = &who.user().site_id;
    let inventory = q.kind == "inventory";
    // The inventory records are chosen by the query, so the limit counts only them (filtered
    // afterwards, a long period's first entries hid its later inventories).
    let only: &[EntryKind] = if inventory {
        &[EntryKind::InitialInventory, EntryKind::BiennialInventory]
    } else {
        &[]
    };
    let limit = state.config().limits.report_lines;
    let mut rows: Vec<store::LogRow> = state
        .store()
        .dispensing_log(site, start, end, only, limit.saturating_add(1))
        .await?;
    let truncated = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    if truncated && q.format == "csv" {
        return Ok(too_long_to_export());
    }
    let event = store::AuditEvent::new("ledger.log", store::AuditOutcome::Ok)
        .site(site.as_str())
        .detail(format!("from={from} to={to}"));
    state
        .store()
        .audit(&who.actor(), event, jiff::Timestamp::now())
        .await?;
    // The clinic's administrator reads the log without patient names: the record number.
    let clinical = matches!(who.user().role, Role::Nurse | Role::Prescriber);
    let names = StaffNames::of_site(&state, site).await?;
    let account = |email: &str| match names.by(Some(email)) {
        name if name == email => email.to_owned(),
        name => format!("{name} ({email})"),
    };
    let lines: Vec<LogLine> = rows
        .iter()
        .map(|r| {
            let e = &r.entry;
            let what = match &r.container {
                Some((form, lot, number)) => format!("{} #{number}, lot {lot}", form.label()),
                None => "the whole site".to_owned(),
            };
            let ml = r
                .container
                .as_ref()
                .and_then(|(form, _, _)| form.ml_for(e.amount_mg.abs()));
            LogLine {
                seq: e.seq,
                time: ctx.time(e.at),
                kind: e.kind.label(),
                what,
                amount: match ml {
                    Some(ml) => format!("{:.3} mg ({ml:.3} mL)", e.amount_mg),
                    None => format!("{:.3} mg", e.amount_mg),
                },
                balance: format!("{:.3} mg", e.balance_mg),
                patient: match &r.patient {
                    Some((name, mrn)) if clinical => format!("{name} ({mrn})"),
                    Some((_, mrn)) => mrn.clone(),
                    None => String::new(),
                },
                by: match &e.witness {
                    Some(w) => format!(
                        "{}, witnessed by {}",
                        names.by(Some(&e.actor)),
                        names.by(Some(w))
                    ),
                    None => names.by(Some(&e.actor)).to_owned(),
                },
                by_account: match &e.witness {
                    Some(w) => format!("{}, witnessed by {}", account(&e.actor), account(w)),
                    None => account(&e.actor),
                },
                note: [
                    r.method.clone(),
                    r.explanation.clone(),
                    r.details.as_ref().map(details_words),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; "),
            }
        })
        .collect();
    if q.format == "csv" {
        let mut out = csv::Writer::from_writer(Vec::new());
        let header = [
            "entry",
            "time",
            "kind",
            "container",
            "amount",
            "balance",
            "patient",
            "by",
            "note",
        ];
        let mut write = |fields: &[&str]| {
            out.write_record(fields)
                .map_err(|e| AppError::Export(e.to_string()))
        };
        write(&header)?;
        for l in &lines {
            write(&[
                &l.seq.to_string(),
                &l.time,
                l.kind,
                &as_text(&l.what),
                &l.amount,
                &l.balance,
                &as_text(&l.patient),
                &as_text(&l.by_account),
                &as_text(&l.note),
            ])?;
        }
        let body = out
            .into_inner()
            .map_err(|e| AppError::Export(e.to_string()))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-{from}-{to}.csv\"",
                        if inventory {
                            "inventory"
                        } else {
                            "dispensing-log"
                        }
                    ),
                ),
            ],
            body,
        )
            .into_response());
    }
    render(&LogPage {
        title: if inventory {
            "Inventory records"
        } else {
            "Dispensing log"
        },
        kind: if inventory { "inventory" } else { "" },
        from: from.to_string(),
        to: to.to_string(),
        truncated: truncated.then_some(limit),
        lines,
        ctx,
    })
    .map(IntoResponse::into_response)
}

pub(crate) struct ReconLine {
    session: String,
    time: String,
    patient: String,
    dose: String,
    ledger: String,
    gap: String,
    off: bool,
}

#[derive(Template)]
#[template(path = "ledger/reconciliation.html")]
pub(crate) struct ReconPage {
    ctx: PageCtx,
    from: String,
    to: String,
    lines: Vec<ReconLine>,
    gaps: usize,
    /// How many sessions the page holds, when more started in the period.
    truncated: Option<u32>,
}

/// `GET /ledger/reconciliation?from=&to=`: each session's dose against the ledger.
pub(crate) async fn reconciliation(
    State(state): State<AppState>,
    who: Can<LedgerReports>,
    ctx: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let Some((from, to, start, end)) = period(&ctx, &q) else {
        return Ok(bad_dates());
    };
    let site = &who.user().site_id;
    let limit = state.config().limits.report_lines;
    let mut rows = state
        .store()
        .reconciliation(site, start, end, limit.saturating_add(1))
        .await?;
    let truncated = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let event = store::AuditEvent::new("ledger.reconciliation", store::AuditOutcome::Ok)
        .site(site.as_str())
        .detail(format!("from={from} to={to}"));
    state
        .store()
        .audit(&who.actor(), event, jiff::Timestamp::now())
        .await?;
    let clinical = matches!(who.user().role, Role::Nurse | Role::Prescriber);
    let lines: Vec<ReconLine> = rows
        .iter()
        .map(|r| {
            let gap = r.gap_mg();
            ReconLine {
                session: if clinical {
                    r.session_id.clone()
                } else {
                    String::new()
                },
                time: ctx.time(r.started_at),
                patient: if clinical {
                    format!("{} ({})", r.patient.0, r.patient.1)
                } else {
                    r.patient.1.clone()
                },
                dose: format!("{:.1} mg", r.dose_mg),
                ledger: format!("{:.1} mg", r.ledger_mg),
                gap: if gap.abs() < 0.001 {
                    "none".into()
                } else {
                    format!("GAP {gap:.1} mg")
                },
                off: gap.abs() >= 0.001,
            }
        })
        .collect();
    render(&ReconPage {
        truncated: truncated.then_some(limit),
        from: from.to_string(),
        to: to.to_string(),
        gaps: lines.iter().filter(|l| l.off).count(),
        lines,
        ctx,
    })
    .map(IntoResponse::into_response)
}

const LEDGER: super::chain_check::Chain = super::chain_check::Chain {
    title: "Ledger check",
    action: "ledger.verify",
    what: "the ledger",
    tell: "the responsible prescriber",
    back: ("/ledger", "Back to the ledger"),
};

/// `POST /ledger/verify`: checks the whole chain and every balance, as `ketaflow ledger verify`.
pub(crate) async fn verify(
    State(state): State<AppState>,
    who: Can<LedgerReports>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    let (ok, words) = match state.store().verify_ledger().await? {
        Ok(n) => (
            true,
            format!("Intact: {n} entries checked; every hash, link and balance agrees."),
        ),
        Err(broken) => (false, format!("BROKEN: {broken}.")),
    };
    let site = &who.user().site_id;
    super::chain_check::outcome(&state, &who.actor(), site, ctx, &LEDGER, ok, words).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inventory_is_recalled_a_month_ahead_and_when_overdue() {
        let d = jiff::civil::date;
        let note =
            |last, stock, today| inventory_note(last, stock, today).map(|n| (n.text, n.urgent));
        let today = d(2026, 12, 7);
        assert_eq!(note(None, false, today), None, "nothing handled yet");
        assert_eq!(
            note(None, true, today),
            Some((
                "No initial inventory is recorded, while the ledger holds stock".into(),
                true
            ))
        );
        assert_eq!(note(Some(d(2025, 1, 10)), true, today), None);
        assert_eq!(
            note(Some(d(2025, 1, 6)), true, today),
            Some(("The biennial inventory: due by 2027-01-06".into(), false))
        );
        assert_eq!(
            note(Some(d(2024, 12, 7)), true, today),
            Some(("The biennial inventory: due by 2026-12-07".into(), false))
        );
        assert_eq!(
            note(Some(d(2024, 12, 6)), true, today),
            Some((
                "The biennial inventory: overdue since 2026-12-06".into(),
                true
            ))
        );
    }
}
