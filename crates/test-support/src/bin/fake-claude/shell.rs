//! The helper `FAKE:child` starts, standing in for a background tool
//! shell, and the SIGTERM handler. As in the real CLI 2.1, the shell runs
//! in a session of its own (setsid), so a signal to the CLI's process group
//! misses it; after its result the CLI waits for the shell to end; its
//! SIGTERM handler ends the shell, then exits 143 with no result line. A
//! SIGKILLed (or crashed) CLI leaves the shell running, an orphan.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

/// The running shell's pid, 0 when there is none; read by the handler.
static SHELL: AtomicI32 = AtomicI32::new(0);

/// Starts `sleep 1000` in a new session (so also a new process group led
/// by it), sharing this process's stdio; returns its pid.
pub fn start() -> std::io::Result<u32> {
    let mut command = Command::new("sleep");
    command.arg("1000");
    // SAFETY: between fork and exec the closure only calls setsid, which is
    // async-signal-safe and touches no memory.
    unsafe {
        command.pre_exec(|| match libc::setsid() {
            -1 => Err(std::io::Error::last_os_error()),
            _ => Ok(()),
        });
    }
    let pid = command.spawn()?.id();
    SHELL.store(i32::try_from(pid).unwrap_or(0), Ordering::SeqCst);
    Ok(pid)
}

/// Waits for the shell, if one was started, as the real CLI waits for its
/// background tasks before it exits.
pub fn wait() {
    let shell = SHELL.load(Ordering::SeqCst);
    if shell > 0 {
        // SAFETY: waits for this process's own child; a null status is allowed.
        unsafe { libc::waitpid(shell, std::ptr::null_mut(), 0) };
    }
}

/// The real CLI catches SIGTERM, ends its tool shells and exits with
/// status 143 (it does not die by the signal), printing nothing more.
/// `FAKE:hang-ignore-term` later replaces this with SIG_IGN.
pub fn exit_143_on_sigterm() {
    extern "C" fn on_term(_: libc::c_int) {
        let shell = SHELL.load(Ordering::SeqCst);
        // SAFETY: kill, waitpid and _exit are async-signal-safe; the shell
        // leads its own process group, so -shell is that group.
        unsafe {
            if shell > 0 {
                libc::kill(-shell, libc::SIGKILL);
                libc::waitpid(shell, std::ptr::null_mut(), 0);
            }
            libc::_exit(143);
        }
    }
    let handler: extern "C" fn(libc::c_int) = on_term;
    // SAFETY: the handler only makes async-signal-safe calls.
    unsafe { libc::signal(libc::SIGTERM, handler as libc::sighandler_t) };
}
