//! `POST /twilio/status`: status callbacks. Signature-checked like inbound
//! messages; every event is stored (duplicates once, unknown SIDs too) and
//! answered `204` once committed (rendered by the writer, written by the
//! connection's thread).

use super::{signed::verified_form, Twilio};
use crate::channel::twilio::status::status_event;
use crate::http::answer::after_commit;
use crate::http::router::Call;
use crate::http::{errors, Response};
use crate::store::Recorded;
use crate::work::RecordStatus;

/// Handles one status callback.
pub fn handle(twilio: &Twilio, call: &Call<'_>) -> Response {
    let request = call.request;
    let params = match verified_form(twilio, request) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let event = match status_event(&params) {
        Ok(event) => event,
        Err(e) => return errors::bad_webhook(&e),
    };
    let note = format!("{} {}", event.key, event.status);
    after_commit(&twilio.writer, RecordStatus(event), move |recorded| match recorded {
        Ok(Recorded::New) => Response::empty(204).note(note),
        Ok(Recorded::Duplicate) => Response::empty(204).note(format!("{note} (duplicate)")),
        Err(e) => errors::writer_unavailable(&note, &e).note(note),
    })
}
