//! A bench-side workaround for the fake Discord: it writes each HTTP answer
//! as head + body and each websocket frame without TCP_NODELAY, so on
//! loopback a small write behind an unacknowledged one waits for the
//! receiver's delayed ACK (~40 ms). Setting TCP_NODELAY on the fake's
//! listening sockets (accepted sockets inherit it on Linux) removes that
//! stall without touching the fake's code.

use std::os::raw::c_int;

/// Sets TCP_NODELAY on every listening TCP socket of this process (the
/// fake's REST and gateway listeners); returns how many.
pub fn on_listeners() -> usize {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let mut set = 0;
    for fd in fds
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<c_int>().ok())
    {
        if int_option(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN) == Some(1)
            && int_option(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL) == Some(libc::IPPROTO_TCP)
        {
            let on: c_int = 1;
            // SAFETY: a socket fd of this process and a c_int option.
            let rc = unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    (&on as *const c_int).cast(),
                    std::mem::size_of::<c_int>() as libc::socklen_t,
                )
            };
            set += usize::from(rc == 0);
        }
    }
    set
}

fn int_option(fd: c_int, level: c_int, name: c_int) -> Option<c_int> {
    let mut value: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `value`; on a
    // descriptor that is not a socket it fails with ENOTSOCK.
    let rc =
        unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut c_int).cast(), &mut len) };
    (rc == 0).then_some(value)
}
