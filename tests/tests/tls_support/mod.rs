//! HTTPS on 127.0.0.1 for tests: a certificate authority and a server certificate made at test
//! time, a TLS front that forwards each connection to a plain-HTTP server (a mock, the
//! sandbox), and a `CONNECT` proxy that counts the tunnels it opens.
//!
//! Each server runs on its own thread and runtime (tests may block while it serves), binds
//! 127.0.0.1 only, and stops when dropped. The CLI's tests include this file too.
#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority and a server certificate it issued for `127.0.0.1` and
/// `localhost`.
pub struct Pki {
    /// The authority's certificate, PEM: what a client must trust.
    pub ca_pem: String,
    leaf: CertificateDer<'static>,
    leaf_key: Vec<u8>,
}

impl Pki {
    /// A new authority named `name`, and its server certificate.
    pub fn new(name: &str) -> Pki {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.distinguished_name.push(rcgen::DnType::CommonName, name);
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).expect("CA certificate");
        let leaf_key = rcgen::KeyPair::generate().expect("server key");
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("server params")
            .signed_by(&leaf_key, &*ca)
            .expect("server certificate");
        Pki {
            ca_pem: ca.pem(),
            leaf: leaf.der().clone(),
            leaf_key: leaf_key.serialize_der(),
        }
    }

    fn server_config(&self) -> Arc<ServerConfig> {
        // Through `tokio_rustls`: the CLI's tests share this file and have no `rustls` of their own.
        #[allow(unused_qualifications)]
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.clone()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.leaf.clone()], key)
            .expect("server certificate and key");
        Arc::new(config)
    }
}

/// A server on its own thread and runtime; stopped (every connection dropped) when dropped.
struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    fn start<F, S>(serve: S) -> io::Result<(SocketAddr, Background)>
    where
        S: FnOnce(TcpListener) -> F + Send + 'static,
        F: Future<Output = ()>,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
                tokio::select! {
                    () = serve(listener) => {}
                    _ = stopped => {}
                }
            });
        });
        Ok((
            addr,
            Background {
                stop: Some(stop),
                thread: Some(thread),
            },
        ))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// HTTPS on 127.0.0.1 in front of a plain-HTTP server.
pub struct TlsFront {
    /// Where it listens.
    pub addr: SocketAddr,
    handshakes: Arc<AtomicUsize>,
    _server: Background,
}

impl TlsFront {
    /// Serves `pki`'s server certificate and forwards each connection to `backend`.
    pub fn start(pki: &Pki, backend: SocketAddr) -> io::Result<TlsFront> {
        let acceptor = TlsAcceptor::from(pki.server_config());
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = handshakes.clone();
        let (addr, server) = Background::start(move |listener| async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, counted) = (acceptor.clone(), counted.clone());
                tokio::spawn(async move {
                    // A client that refuses the certificate ends here.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut plain) = TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        })?;
        Ok(TlsFront {
            addr,
            handshakes,
            _server: server,
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// How many TLS handshakes succeeded.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

/// An HTTP proxy on 127.0.0.1 that only tunnels (`CONNECT`) to 127.0.0.1 and `localhost`,
/// and counts the tunnels it opened.
pub struct ConnectProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    connects: Arc<AtomicUsize>,
    _server: Background,
}

impl ConnectProxy {
    /// Starts the proxy.
    pub fn start() -> io::Result<ConnectProxy> {
        let connects = Arc::new(AtomicUsize::new(0));
        let counted = connects.clone();
        let (addr, server) = Background::start(move |listener| async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(tunnel(client, counted.clone()));
            }
        })?;
        Ok(ConnectProxy {
            addr,
            connects,
            _server: server,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// How many tunnels it opened.
    pub fn connects(&self) -> usize {
        self.connects.load(Ordering::SeqCst)
    }
}

/// Reads a request head (at most 8 KiB); answers `CONNECT` to a loopback target with a tunnel.
async fn tunnel(mut client: TcpStream, connects: Arc<AtomicUsize>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) if head.len() + n > 8192 => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut words = text.split_whitespace();
    let target = match (words.next(), words.next()) {
        (Some("CONNECT"), Some(target))
            if target.starts_with("127.0.0.1:") || target.starts_with("localhost:") =>
        {
            target.to_owned()
        }
        _ => {
            let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
            return;
        }
    };
    let Ok(mut upstream) = TcpStream::connect(&target).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    connects.fetch_add(1, Ordering::SeqCst);
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_ok()
    {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}
