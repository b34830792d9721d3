//! Hostile data (issue "hostile clients"): each test is named after a promise
//! that broke when the server was attacked from outside, against the real
//! server over HTTP.

use crate::support::TestServer;

const CUSTOMER: &str = "+27825558001";

#[test]
fn a_submissions_filter_of_percent_or_underscore_matches_only_itself() {
    let server = TestServer::start();
    for text in ["2", "1", "Dented lid"] {
        server.say(CUSTOMER, text);
    }
    let (status, all) = server.api_get("/api/submissions?form=DEF");
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["submissions"].as_array().unwrap().len(), 1);
    for wildcard in ["%25", "_", "D_F", "DE%25"] {
        let (status, answer) = server.api_get(&format!("/api/submissions?form={wildcard}"));
        assert_eq!(status, 200, "{answer}");
        assert!(
            answer["submissions"].as_array().unwrap().is_empty(),
            "form={wildcard} is text, not a pattern: {answer}"
        );
    }
}
