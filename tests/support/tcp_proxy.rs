//! A TCP relay between the bot and its database that a test can cut: `down()` kills every open
//! connection and refuses new ones, `up()` lets them through again. From the bot's side this is
//! the database becoming unreachable, without stopping the shared server other tests use.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

pub struct TcpProxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    /// Bumped by `down()`: connections opened under an older generation close themselves.
    generation: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(target: std::net::SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicU64::new(0));
        let (u, g) = (Arc::clone(&up), Arc::clone(&generation));
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                // Read the generation before the flag: `down()` clears the flag first, so a
                // connection let through here is cut by the generation it missed.
                let born = g.load(Ordering::SeqCst);
                if !u.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let g = Arc::clone(&g);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let pump = async {
                        tokio::select! {
                            _ = tokio::io::copy(&mut cr, &mut sw) => {},
                            _ = tokio::io::copy(&mut sr, &mut cw) => {},
                        }
                    };
                    let cut = async {
                        while g.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! {
                        _ = pump => {},
                        _ = cut => {},
                    }
                });
            }
        });
        TcpProxy {
            port,
            up,
            generation,
            task,
        }
    }

    /// Cuts every connection (within a few tens of milliseconds) and refuses new ones.
    pub async fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
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
