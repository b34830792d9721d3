//! Assembles a running shopbot from a [`Config`]: opens the store, starts the
//! writer thread and the HTTP server. Used by `serve`, `demo` and the tests.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::channel;
use crate::channel::demo::{DemoChannel, StatusCallback};
use crate::clock::Clock;
use crate::config::Config;
use crate::conversation::{Bot, LiveBot};
use crate::http::webhooks::AreaDeps;
use crate::http::{api::Api, demo::DemoPage, inbox::Inbox, routes::App, HttpServer, Settings};
use crate::message::Channel;
use crate::outbox::policy::RetryPolicy;
use crate::outbox::sender::{OutboxSender, SenderSettings, Wake};
use crate::reload::Watcher;
use crate::retention::RetentionJob;
use crate::store::serving::ServingLock;
use crate::store::{ReadPool, Store, StoreError};
use crate::work::RecordStatus;
use crate::writer::{Writer, WriterError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The writer or the outbox could not start.
    #[error("cannot start: {0}")]
    Writer(#[from] WriterError),
    /// The address could not be bound; the hint depends on why.
    #[error("cannot listen on {addr}: {source} ({})", bind_hint(.source))]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server's threads could not start (the port is bound).
    #[error("cannot start the HTTP server on {addr}: {source}")]
    Http {
        /// The bound address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What to do about a bind that failed, by its cause: only a port in use
/// suggests another program.
fn bind_hint(source: &std::io::Error) -> &'static str {
    match source.kind() {
        std::io::ErrorKind::AddrInUse => "is another program using the port? change [server] listen",
        std::io::ErrorKind::PermissionDenied => {
            "ports below 1024 need root or CAP_NET_BIND_SERVICE: listen on a port above 1024, such as 8080, behind a reverse proxy; change [server] listen"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "this machine has no such address: use 127.0.0.1, 0.0.0.0 or one of its own addresses in [server] listen"
        }
        _ => "check [server] listen",
    }
}

/// Extra switches for how the server runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve the browser chat simulator at `/demo`, and send the Twilio
    /// lane's messages to it through the demo channel (never to Twilio).
    pub demo_page: bool,
    /// Where "now" comes from: the system's clock, or a test's.
    pub clock: Clock,
    /// Reload the config and its menu file when they change or on SIGHUP
    /// (`serve`; see [`crate::reload`]).
    pub reload: bool,
}

/// A running server.
pub struct Running {
    /// Held until the server is gone: see [`ServingLock`].
    _serving: ServingLock,
    reload: Option<Watcher>,
    http: HttpServer,
    outbox: Option<OutboxSender>,
    retention: Option<RetentionJob>,
    health: Writer,
    writer: JoinHandle<()>,
}

impl Running {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// A check that the database answers (for a watchdog).
    pub fn health_check(&self) -> impl Fn() -> bool + Send + 'static {
        let writer = self.health.clone();
        move || writer.ping(Duration::from_secs(5)).is_ok()
    }

    /// Stops accepting, finishes requests in flight and the current outbound
    /// send, commits, closes the database (checkpointing the WAL), and returns.
    pub fn shutdown(self) {
        drop(self.reload);
        self.http.shutdown();
        if let Some(outbox) = self.outbox {
            outbox.shutdown();
        }
        drop(self.retention);
        self.health.stop();
        let _ = self.writer.join();
    }
}

/// Opens the database and starts serving.
///
/// The port is bound first, so a port in use fails before the database is
/// opened (or created and migrated).
pub fn start(config: &Config, options: Options) -> Result<Running, StartError> {
    let listener = TcpListener::bind(config.server.listen).map_err(|source| StartError::Bind {
        addr: config.server.listen,
        source,
    })?;
    let serving = ServingLock::acquire(&config.database_path)?;
    let store = Store::open(&config.database_path)?;
    let bot = LiveBot::new(Bot::from_config(config));
    let reload = match options.reload {
        true => Some(Watcher::start(config, bot.clone()).map_err(|source| {
            StartError::Writer(WriterError::Thread {
                what: "reload",
                source: Arc::new(source),
            })
        })?),
        false => None,
    };
    let (writer, writer_thread) = Writer::start_with_clock(store, options.clock.clone())?;
    let reader = Arc::new(ReadPool::new(&config.database_path));
    let demo_channel = options.demo_page.then(|| demo_channel(config, &writer));
    let outbox = start_outbox(config, &writer, &reader, &options, demo_channel.as_ref())?;
    let writer_health = writer.clone();
    let retention = config
        .retention
        .message_bodies_days
        .map(|days| RetentionJob::start(writer.clone(), days));
    let demo = demo_channel.map(|channel| DemoPage::new(config, reader.clone(), channel));
    let wake = outbox.as_ref().map_or_else(Wake::none, OutboxSender::waker);
    let routing = Arc::new(crate::outbox::Routing::from_config(config));
    let inbox = Inbox {
        shop_name: config.shop.name.clone(),
        reader: reader.clone(),
        writer: writer.clone(),
        outbox: wake.clone(),
        routing: routing.clone(),
        bot: bot.clone(),
        media: channel::MediaFetcher::from_config(config),
        demo: demo.is_some(),
        secure_cookies: config
            .server
            .public_base_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://")),
        throttle: crate::auth::Throttle::sign_in(),
        trusted_proxies: config.server.trusted_proxies.clone(),
        clock: options.clock.clone(),
        notices: crate::notify::OrderNotices::from_config(config).map(Arc::new),
        submission_notices: crate::notify::SubmissionNotices::from_config(config).map(Arc::new),
    };
    let api = Api {
        token: config.admin_token.clone(),
        reader: reader.clone(),
        writer: writer.clone(),
        outbox: wake.clone(),
        routing: routing.clone(),
    };
    let webhooks = crate::http::routes::webhook_areas(&AreaDeps {
        config,
        writer: &writer,
        outbox: &wake,
        bot: &bot,
    });
    let mut large_bodies = vec![(
        crate::http::inbox::ORDERS_PATH.to_string(),
        crate::http::MAX_UPLOAD_BYTES,
    )];
    large_bodies.extend(webhooks.iter().flat_map(|area| area.large_bodies()));
    let app = Arc::new(App {
        writer,
        webhooks,
        demo,
        inbox,
        api,
    });
    let handler = Arc::new(move |request: &crate::http::Request| app.handle(request));
    let settings = Settings {
        workers: config.server.workers,
        max_connections: config.server.max_connections,
        request_timeout: config.server.request_timeout,
        large_bodies,
    };
    let http = HttpServer::start(listener, settings, handler).map_err(|source| StartError::Http {
        addr: config.server.listen,
        source,
    })?;
    Ok(Running {
        _serving: serving,
        reload,
        http,
        outbox,
        retention,
        health: writer_health,
        writer: writer_thread,
    })
}

/// The demo's channel, its status callbacks recorded as `POST /twilio/status`
/// records Twilio's.
fn demo_channel(config: &Config, writer: &Writer) -> DemoChannel {
    let writer = writer.clone();
    let callback: StatusCallback = Arc::new(move |form| {
        let event = channel::twilio::status::status_event(&form)?;
        writer.run(RecordStatus(event))?;
        Ok(())
    });
    DemoChannel::new(&config.sender_address(Channel::Twilio), callback)
}

/// Starts the outbox sender for the channels that can send; messages for the
/// others wait in the outbox (and a warning says why). With `demo`, the demo
/// channel takes Twilio's lane.
fn start_outbox(
    config: &Config,
    writer: &Writer,
    reader: &Arc<ReadPool>,
    options: &Options,
    demo: Option<&DemoChannel>,
) -> Result<Option<OutboxSender>, StartError> {
    let (mut channels, mut missing) = channel::transports(config, Some((reader, writer)));
    if let Some(demo) = demo {
        channels.insert(Channel::Twilio, (Box::new(demo.clone()), channel::rates(config)));
        missing.retain(|(channel, _)| *channel != Channel::Twilio);
    }
    // The demo has no provider account on purpose.
    let level = if options.demo_page {
        log::Level::Debug
    } else {
        log::Level::Warn
    };
    for (channel, why) in missing {
        log::log!(target: "outbox", level, "outbound {channel} messages will wait in the outbox and not be sent: {why}");
    }
    if channels.is_empty() {
        return Ok(None);
    }
    let settings = SenderSettings {
        channels,
        retry: RetryPolicy {
            max_attempts: config.outbox.max_attempts,
            base: config.outbox.retry_base,
        },
        clock: options.clock.clone(),
    };
    Ok(Some(OutboxSender::start(settings, writer.clone(), reader.clone())?))
}

#[cfg(test)]
mod tests {
    use super::StartError;
    use std::io::{Error, ErrorKind};

    fn bind_error(kind: ErrorKind) -> String {
        let addr = "127.0.0.1:80".parse().expect("an address");
        StartError::Bind {
            addr,
            source: Error::from(kind),
        }
        .to_string()
    }

    #[test]
    fn a_bind_error_says_what_failed_and_only_a_port_in_use_suggests_another_program() {
        assert!(bind_error(ErrorKind::AddrInUse).contains("is another program using the port?"));
        let denied = bind_error(ErrorKind::PermissionDenied);
        assert!(
            denied.contains("ports below 1024 need root") && !denied.contains("another program"),
            "{denied}"
        );
        let absent = bind_error(ErrorKind::AddrNotAvailable);
        assert!(
            absent.contains("no such address") && !absent.contains("another program"),
            "{absent}"
        );
        assert!(!bind_error(ErrorKind::Other).contains("another program"));
    }
}
