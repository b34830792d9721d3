//! Words filled into the texts customers and the owner read: a submission's
//! status and what a customer reads for it, and `{placeholder}` filling. A
//! leaf of the engine: the menu, its rendering and the catalogs all use it.

/// Where a submission is in the shop's hands, as the owner sets it in the
/// inbox: new until they say otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubmissionStatus {
    /// Nobody has looked at it yet.
    #[default]
    New,
    /// Someone is on it.
    InProgress,
    /// Dealt with.
    Done,
}

impl SubmissionStatus {
    /// Every status, in the order of a submission's life.
    pub const ALL: [SubmissionStatus; 3] = [
        SubmissionStatus::New,
        SubmissionStatus::InProgress,
        SubmissionStatus::Done,
    ];

    /// As stored, posted and in the API: `new`, `in_progress`, `done`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::New => "new",
            SubmissionStatus::InProgress => "in_progress",
            SubmissionStatus::Done => "done",
        }
    }

    /// The status [`as_str`](Self::as_str) names.
    pub fn parse(word: &str) -> Option<SubmissionStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// What a customer reads for each status (`[texts] submission_new`,
/// `submission_in_progress`, `submission_done`, in their language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWords {
    /// For [`SubmissionStatus::New`].
    pub new: String,
    /// For [`SubmissionStatus::InProgress`].
    pub in_progress: String,
    /// For [`SubmissionStatus::Done`].
    pub done: String,
}

impl StatusWords {
    /// The word for `status`.
    pub fn of(&self, status: SubmissionStatus) -> &str {
        match status {
            SubmissionStatus::New => &self.new,
            SubmissionStatus::InProgress => &self.in_progress,
            SubmissionStatus::Done => &self.done,
        }
    }
}

/// Replaces each `{key}` with its value in one pass; unknown `{…}` stay as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            values
                .iter()
                .find(|(k, _)| *k == &after[..close])
                .map(|(_, v)| (close, v))
        });
        match value {
            Some((close, v)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
