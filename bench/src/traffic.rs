//! The traffic: customers walking the seed's whole conversation (hi → 2 → 1 →
//! description → 2 → 2: menu, sub-menu, form question, submission, sub-menu,
//! history), as signed Twilio webhooks, with the reply to every step checked.

use shopbot::channel::twilio::signature::{self, Algorithm};

/// One step: what the customer sends and a text the reply must contain.
struct Step {
    text: &'static str,
    expect: &'static str,
}

const WALK: &[Step] = &[
    Step {
        text: "hi",
        expect: "Welcome! Select 1-5",
    },
    Step {
        text: "2",
        expect: "1 Report a defect",
    },
    Step {
        text: "1",
        expect: "Please describe the defect:",
    },
    Step {
        text: "",
        expect: "Defect Submitted! ID: DEF-",
    },
    Step {
        text: "2",
        expect: "1 Report a defect",
    },
    Step {
        text: "2",
        expect: "DEF-",
    },
];

/// How to sign.
#[derive(Clone)]
pub struct Signer {
    /// `public_base_url` + inbound path: the URL Twilio signs.
    pub url: String,
    /// The auth token.
    pub token: String,
}

/// A customer part-way through the walk.
pub struct Customer {
    phone: String,
    step: usize,
    walks: u64,
}

/// A request ready to send, and what its answer must contain.
pub struct Request {
    pub body: Vec<u8>,
    pub signature: String,
    pub expect: &'static str,
    pub step: usize,
}

impl Customer {
    pub fn new(run: u32, n: u64) -> Customer {
        Customer {
            phone: format!("+27{:03}{:06}", run % 1000, n),
            step: 0,
            walks: 0,
        }
    }

    /// The next request; `seq` makes the MessageSid unique.
    pub fn next(&self, signer: &Signer, run: u32, seq: u64) -> Request {
        let step = &WALK[self.step];
        let sid = format!("SM{run:08x}{seq:024x}");
        let description = format!("Walk {} of {}: hinge cracked", self.walks, self.phone);
        let text = if self.step == 3 {
            description.as_str()
        } else {
            step.text
        };
        let from = format!("whatsapp:{}", self.phone);
        let params: Vec<(String, String)> = [
            ("SmsMessageSid", sid.as_str()),
            ("NumMedia", "0"),
            ("ProfileName", "Load Test"),
            ("MessageType", "text"),
            ("SmsSid", sid.as_str()),
            ("WaId", &self.phone[1..]),
            ("SmsStatus", "received"),
            ("Body", text),
            ("To", "whatsapp:+14155238886"),
            ("NumSegments", "1"),
            ("MessageSid", sid.as_str()),
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("From", from.as_str()),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let signature = signature::compute(Algorithm::HmacSha1, signer.token.as_bytes(), &signer.url, &params);
        let body = serde_urlencoded::to_string(&params).unwrap_or_default().into_bytes();
        Request {
            body,
            signature,
            expect: step.expect,
            step: self.step,
        }
    }

    /// Moves on after a correct reply.
    pub fn advance(&mut self) {
        self.step += 1;
        if self.step == WALK.len() {
            self.step = 0;
            self.walks += 1;
        }
    }

    /// Starts over after a wrong reply.
    pub fn reset(&mut self) {
        self.step = 0;
    }
}

/// Whether a reply body is TwiML containing `expect`.
pub fn reply_ok(body: &[u8], expect: &str) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("<Response>") && text.contains(expect)
}
