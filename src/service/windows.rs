//! The Windows service: registering shopbot with the Service Control Manager
//! (SCM), and the SCM's side of a running service.
//!
//! `shopbot service install` registers an auto-start service named `shopbot`
//! whose command line is `shopbot.exe service run --config FILE`. The SCM starts
//! that process; [`dispatch`] connects it to the SCM, which then calls
//! `service_main` on a thread of its own. A Stop or Shutdown control sends on
//! the stop channel that the server waits on, so the service drains exactly as
//! `shopbot serve` does on Ctrl+C. The states the SCM sees: StartPending until
//! the database is open and the port is bound ([`ready`]), Running,
//! StopPending while draining, Stopped (with a service-specific exit code 1 or
//! 2 when shopbot failed, as the command line's exit codes).

use std::ffi::OsString;
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept, ServiceErrorControl,
    ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod, ServiceInfo, ServiceStartType, ServiceState,
    ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult, ServiceStatusHandle};
use windows_service::service_dispatcher;
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};

/// The service's name (`sc.exe query shopbot`, `Start-Service shopbot`).
pub const SERVICE_NAME: &str = "shopbot";
/// The name shown in services.msc.
pub const DISPLAY_NAME: &str = "shopbot WhatsApp bot";
const DESCRIPTION: &str = "WhatsApp menu bot for the shop (shopbot serve). Logs: shopbot.log beside the database.";

/// How long the SCM should wait for start-up (opening and migrating the database).
const START_WAIT: Duration = Duration::from_secs(30);
/// How long the SCM should wait for a stop: the drain limit (60 s) plus a margin.
const STOP_WAIT: Duration = Duration::from_secs(70);

// Win32 error codes this module tells apart.
const ERROR_ACCESS_DENIED: i32 = 5;
const ERROR_SERVICE_DOES_NOT_EXIST: i32 = 1060;
const ERROR_SERVICE_NOT_ACTIVE: i32 = 1062;
const ERROR_FAILED_SERVICE_CONTROLLER_CONNECT: i32 = 1063;
const ERROR_SERVICE_MARKED_FOR_DELETE: i32 = 1072;
const ERROR_SERVICE_EXISTS: i32 = 1073;

/// What the service runs: given the stop channel, serve until it receives;
/// `Err(code)` is reported to the SCM as a service-specific exit code.
pub type Body = Box<dyn FnOnce(Receiver<()>) -> Result<(), u32> + Send>;

/// A failed service operation, in words an operator can act on.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn os_error(e: &windows_service::Error) -> Option<i32> {
    match e {
        windows_service::Error::Winapi(io) => io.raw_os_error(),
        _ => None,
    }
}

fn describe(what: &str, e: windows_service::Error) -> Error {
    let detail = match &e {
        windows_service::Error::Winapi(io) => io.to_string(),
        other => other.to_string(),
    };
    let hint = match os_error(&e) {
        Some(ERROR_ACCESS_DENIED) => "\nRun this in a PowerShell opened with \"Run as administrator\".",
        Some(ERROR_SERVICE_EXISTS) => {
            "\nThe service is already installed: `shopbot service uninstall` first, then install again."
        }
        Some(ERROR_SERVICE_DOES_NOT_EXIST) => "\nThe shopbot service is not installed.",
        Some(ERROR_SERVICE_MARKED_FOR_DELETE) => {
            "\nWindows is still removing the old service: close services.msc and the Event Viewer, or reboot, then try again."
        }
        _ => "",
    };
    Error(format!("{what}: {detail}{hint}"))
}

/// Registers the auto-start service `shopbot` running as LocalSystem, whose
/// command line is `exe` followed by `arguments`, and which the SCM restarts
/// after a failure (5 s, 10 s, then 60 s later). Returns warnings about the
/// extras (description, restart actions) that could not be set: the service is
/// installed all the same.
pub fn install(exe: &Path, arguments: Vec<OsString>) -> Result<Vec<String>, Error> {
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )
    .map_err(|e| describe("cannot open the Windows service manager", e))?;
    let info = ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: DISPLAY_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.to_path_buf(),
        launch_arguments: arguments,
        dependencies: vec![],
        account_name: None, // LocalSystem
        account_password: None,
    };
    let service = manager
        .create_service(&info, ServiceAccess::CHANGE_CONFIG | ServiceAccess::START)
        .map_err(|e| describe("cannot create the shopbot service", e))?;
    let mut warnings = Vec::new();
    if let Err(e) = service.set_description(DESCRIPTION) {
        warnings.push(describe("cannot set the service's description", e).0);
    }
    let restart = |secs| ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(secs),
    };
    let actions = service
        .update_failure_actions(ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
            reboot_msg: None,
            command: None,
            actions: Some(vec![restart(5), restart(10), restart(60)]),
        })
        .and_then(|()| service.set_failure_actions_on_non_crash_failures(true));
    if let Err(e) = actions {
        warnings.push(describe("cannot set the service's restart-on-failure actions", e).0);
    }
    Ok(warnings)
}

/// Stops the service if it runs (waiting for its drain), then removes it.
pub fn uninstall() -> Result<(), Error> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .map_err(|e| describe("cannot open the Windows service manager", e))?;
    let service = manager
        .open_service(
            SERVICE_NAME,
            ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
        )
        .map_err(|e| describe("cannot open the shopbot service", e))?;
    let state = service
        .query_status()
        .map_err(|e| describe("cannot query the shopbot service", e))?
        .current_state;
    if state != ServiceState::Stopped {
        println!("stopping the shopbot service (it finishes the requests in flight first) ...");
        match service.stop() {
            Ok(_) => {}
            Err(e) if os_error(&e) == Some(ERROR_SERVICE_NOT_ACTIVE) => {}
            Err(e) => return Err(describe("cannot stop the shopbot service", e)),
        }
        let deadline = Instant::now() + STOP_WAIT;
        while Instant::now() < deadline {
            match service.query_status() {
                Ok(status) if status.current_state == ServiceState::Stopped => break,
                Ok(_) => std::thread::sleep(Duration::from_millis(500)),
                Err(e) => return Err(describe("cannot query the shopbot service", e)),
            }
        }
    }
    service
        .delete()
        .map_err(|e| describe("cannot remove the shopbot service", e))?;
    Ok(())
}

/// The service's status handle, once registered; [`ready`] and [`stopping`] use it.
static STATUS: OnceLock<ServiceStatusHandle> = OnceLock::new();
/// What `service_main` runs, handed over by [`dispatch`].
static BODY: Mutex<Option<Body>> = Mutex::new(None);

windows_service::define_windows_service!(ffi_service_main, service_main);

/// Connects this process to the SCM and runs `body` as the service; returns
/// when the service has stopped. Outside the SCM (a person typed `shopbot
/// service run`) it fails at once with an explanation.
pub fn dispatch(body: Body) -> Result<(), Error> {
    *BODY.lock().unwrap_or_else(|e| e.into_inner()) = Some(body);
    match service_dispatcher::start(SERVICE_NAME, ffi_service_main) {
        Ok(()) => Ok(()),
        Err(e) if os_error(&e) == Some(ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) => Err(Error(
            "`shopbot service run` is started by the Windows service manager, not by hand.\n\
             To run shopbot in this window use `shopbot serve --config FILE`; to start the service: Start-Service shopbot"
                .into(),
        )),
        Err(e) => Err(describe("cannot connect to the Windows service manager", e)),
    }
}

fn service_main(_arguments: Vec<OsString>) {
    let (stop, stopped) = mpsc::channel::<()>();
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            stopping();
            let _ = stop.send(());
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let Ok(handle) = service_control_handler::register(SERVICE_NAME, handler) else {
        return; // nothing to report to: the SCM gave us no handle
    };
    let _ = STATUS.set(handle);
    report(ServiceState::StartPending, ServiceExitCode::NO_ERROR, START_WAIT);
    let body = BODY.lock().unwrap_or_else(|e| e.into_inner()).take();
    let result = match body {
        Some(body) => body(stopped),
        None => Err(2),
    };
    let exit_code = match result {
        Ok(()) => ServiceExitCode::NO_ERROR,
        Err(code) => ServiceExitCode::ServiceSpecific(code),
    };
    report(ServiceState::Stopped, exit_code, Duration::ZERO);
}

/// Tells the SCM start-up is finished (Running; Stop and Shutdown accepted).
/// Does nothing when not running as a service.
pub fn ready() {
    report(ServiceState::Running, ServiceExitCode::NO_ERROR, Duration::ZERO);
}

/// Tells the SCM the service is draining (StopPending, up to [`STOP_WAIT`]).
/// Does nothing when not running as a service.
pub fn stopping() {
    report(ServiceState::StopPending, ServiceExitCode::NO_ERROR, STOP_WAIT);
}

fn report(state: ServiceState, exit_code: ServiceExitCode, wait_hint: Duration) {
    let Some(handle) = STATUS.get() else { return };
    let controls_accepted = match state {
        ServiceState::Running => ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
        _ => ServiceControlAccept::empty(),
    };
    let pending = matches!(state, ServiceState::StartPending | ServiceState::StopPending);
    let status = ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted,
        exit_code,
        checkpoint: u32::from(pending),
        wait_hint,
        process_id: None,
    };
    if let Err(e) = handle.set_service_status(status) {
        log::warn!(target: "service", "telling the Windows service manager the state {state:?} failed: {e}");
    }
}
