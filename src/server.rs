//! Assembles a running shopbot from a [`Config`]: opens the store, starts the
//! writer thread and the HTTP server. Used by `serve`, `demo` and the tests.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::config::Config;
use crate::conversation::Bot;
use crate::http::{demo::DemoPage, routes::App, HttpServer, Settings};
use crate::store::{Store, StoreError};
use crate::twilio::verifier::WebhookVerifier;
use crate::writer::Writer;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source} (is another program using the port? change [server] listen)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Extra switches for how the server runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Serve the browser chat simulator at `/demo`.
    pub demo_page: bool,
}

/// A running server.
pub struct Running {
    http: HttpServer,
    writer: JoinHandle<()>,
}

impl Running {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// Stops accepting, finishes requests in flight, commits, and returns.
    pub fn shutdown(self) {
        self.http.shutdown();
        let _ = self.writer.join();
    }

    /// Serves until the process ends.
    pub fn wait(self) {
        self.http.join();
        let _ = self.writer.join();
    }
}

/// Opens the database and starts serving.
pub fn start(config: &Config, options: Options) -> Result<Running, StartError> {
    let store = Store::open(&config.database_path)?;
    let listener = TcpListener::bind(config.server.listen).map_err(|source| StartError::Bind {
        addr: config.server.listen,
        source,
    })?;
    let bot = Arc::new(Bot {
        menu: config.menu.clone(),
        timezone: config.shop.timezone.clone(),
    });
    let (writer, writer_thread) = Writer::start(store, bot);
    let demo = options.demo_page.then(|| {
        DemoPage::new(
            &config.shop.name,
            config
                .twilio
                .whatsapp_from
                .as_deref()
                .unwrap_or("whatsapp:+14155238886"),
        )
    });
    let app = Arc::new(App {
        writer,
        verifier: WebhookVerifier::from_config(config),
        inbound_path: config.webhooks.inbound_path.clone(),
        demo,
    });
    let handler = Arc::new(move |request: &crate::http::Request| app.handle(request));
    let settings = Settings {
        workers: config.server.workers,
        max_connections: config.server.max_connections,
        request_timeout: config.server.request_timeout,
    };
    let http = HttpServer::start(listener, settings, handler).map_err(|source| StartError::Bind {
        addr: config.server.listen,
        source,
    })?;
    Ok(Running {
        http,
        writer: writer_thread,
    })
}
