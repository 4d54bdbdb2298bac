//! A TCP relay between the bot and its database that a test can cut: `down()` kills every open
//! connection and refuses new ones, `up()` lets them through again. From the bot's side this is
//! the database becoming unreachable, without stopping the shared server other tests use.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct TcpProxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    /// Bumped by `down()`: connections opened under an older generation close themselves.
    generation: watch::Sender<u64>,
    /// Connections let through and not closed yet.
    open: watch::Sender<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(target: std::net::SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let up = Arc::new(AtomicBool::new(true));
        let (generation, _) = watch::channel(0u64);
        let (open, _) = watch::channel(0usize);
        let (u, g, o) = (Arc::clone(&up), generation.clone(), open.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                // Read the generation before the flag: `down()` clears the flag first, so a
                // connection let through here is cut by the generation it missed.
                let mut generations = g.subscribe();
                let born = *generations.borrow_and_update();
                if !u.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                o.send_modify(|n| *n += 1);
                let o = o.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        let (mut cr, mut cw) = client.into_split();
                        let (mut sr, mut sw) = server.into_split();
                        // The cut first: a connection that missed a `down()` passes nothing on.
                        tokio::select! {
                            biased;
                            _ = generations.wait_for(|g| *g != born) => {},
                            _ = tokio::io::copy(&mut cr, &mut sw) => {},
                            _ = tokio::io::copy(&mut sr, &mut cw) => {},
                        }
                    }
                    o.send_modify(|n| *n -= 1);
                });
            }
        });
        TcpProxy {
            port,
            up,
            generation,
            open,
            task,
        }
    }

    /// A proxy before the server of the database URL `url` (`postgres://user@host:port/db`),
    /// and the same URL through it.
    pub async fn before(url: &str) -> (TcpProxy, String) {
        use std::net::ToSocketAddrs;
        let authority = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .map(|a| a.rsplit('@').next().unwrap_or(a).to_string())
            .expect("a host and port in the database URL");
        let target = authority
            .to_socket_addrs()
            .unwrap()
            .next()
            .expect("the server's address");
        let proxy = TcpProxy::start(target).await;
        let through = url.replacen(&authority, &format!("127.0.0.1:{}", proxy.port), 1);
        (proxy, through)
    }

    /// Refuses new connections and cuts every open one; returns once they are all closed.
    pub async fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
        let mut open = self.open.subscribe();
        open.wait_for(|n| *n == 0)
            .await
            .expect("the proxy is running");
    }

    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
