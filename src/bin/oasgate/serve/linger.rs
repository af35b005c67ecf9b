//! Lingering close: before a connection is closed, what the client still sends is read and
//! discarded for a bounded time, so that the answer already written reaches it.
//!
//! hyper closes a connection after answering a request whose body it did not read to the
//! end (a 413 for a body over the limit, any early answer). Closing a socket with unread
//! data makes the kernel send a reset (RFC 1122 §4.2.2.13: "If such a host issues a CLOSE
//! call while received data is still pending in TCP, or if new data is received after CLOSE
//! is called, its TCP SHOULD send a RST"), and a client still sending its body, one that sent
//! no `Expect: 100-continue`, sees the reset instead of the answer. Here the shutdown that
//! ends every connection first sends the FIN (the answer is complete), then reads until the
//! client closes its side, `time` passes in all, `timeout` passes without data, or
//! [`MAX_DISCARDED`] bytes were thrown away: then the socket is closed. A client that closes
//! as soon as it has its answer costs nothing more.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Most bytes read and discarded while lingering; past that the connection is closed.
pub const MAX_DISCARDED: u64 = 64 * 1024 * 1024;

/// Reads per poll at most, so that a fast sender does not hold the worker thread.
const READS_PER_POLL: usize = 16;

/// A connection whose shutdown lingers: see the module's description.
pub struct Lingering<T> {
    inner: T,
    time: Duration,
    timeout: Duration,
    state: State,
}

enum State {
    Open,
    /// The FIN is sent; reading until the client closes or a bound is reached.
    Draining {
        until: Instant,
        idle: Pin<Box<Sleep>>,
        discarded: u64,
    },
    Closed,
}

impl<T> Lingering<T> {
    pub fn new(inner: T, time: Duration, timeout: Duration) -> Self {
        Self {
            inner,
            time,
            timeout,
            state: State::Open,
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Lingering<T> {
    /// Reads and discards until a bound is reached (`Ready`) or nothing is there yet.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let State::Draining {
            until,
            idle,
            discarded,
        } = &mut self.state
        else {
            return Poll::Ready(());
        };
        let mut buffer = [0u8; 8192];
        for _ in 0..READS_PER_POLL {
            let mut read = ReadBuf::new(&mut buffer);
            match Pin::new(&mut self.inner).poll_read(cx, &mut read) {
                // The client closed its side, or the connection failed: nothing to wait for.
                Poll::Ready(Ok(())) if read.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {
                    *discarded += read.filled().len() as u64;
                    if *discarded > MAX_DISCARDED || Instant::now() >= *until {
                        return Poll::Ready(());
                    }
                    let next = (Instant::now() + self.timeout).min(*until);
                    idle.as_mut().reset(next);
                }
                Poll::Pending => {
                    // The idle timer runs to `timeout` after the last read, capped at `until`.
                    return match idle.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(()),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
        // More is there: come back after other tasks had their turn.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Lingering<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &this.state {
                State::Open => {
                    let sent = std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx));
                    if sent.is_err() || this.time.is_zero() || this.timeout.is_zero() {
                        this.state = State::Closed;
                        return Poll::Ready(sent);
                    }
                    let until = Instant::now() + this.time;
                    this.state = State::Draining {
                        until,
                        idle: Box::pin(tokio::time::sleep_until(
                            (Instant::now() + this.timeout).min(until),
                        )),
                        discarded: 0,
                    };
                }
                State::Draining { .. } => {
                    std::task::ready!(this.drain(cx));
                    this.state = State::Closed;
                }
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}
