//! The engine thread: loads a model and answers, off the page's and the IPC runtime's threads.
//! One model is resident at a time (the one the last request named); requests queue. A panic
//! inside the engine (a GPU driver or allocation failure) becomes an [`AppError`], the model is
//! dropped, and the thread lives on.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc;

use iris_models::device::{Precision, resolve, resolve_adapter};
use iris_models::generate::CancelToken;
use iris_models::session::{Answer, Request, Session};

use crate::error::{AppError, AppResult};
use crate::explain::ExplainCapture;
use crate::settings::DeviceSetting;

/// Where and how a model runs; a change means a reload.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub model_dir: PathBuf,
    pub device: DeviceSetting,
    pub precision: Precision,
}

/// What a running job reports before its answer is complete.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Loading the model: fraction done and what is happening.
    Loading { fraction: f32, stage: String },
    /// A piece of the answer's text.
    Text(String),
}

/// What a job produces, and where its result goes.
pub enum Work {
    /// A chat answer.
    Chat(tokio::sync::oneshot::Sender<AppResult<Answer>>),
    /// An answer with everything the teaching views show.
    Explain(tokio::sync::oneshot::Sender<AppResult<Box<ExplainCapture>>>),
    /// One document page read (the request's only image) with the checkpoint's OCR prompt.
    Ocr(tokio::sync::oneshot::Sender<AppResult<iris_models::ocr::PageText>>),
}

/// One answer to produce.
pub struct Job {
    pub placement: Placement,
    pub request: Request,
    pub cancel: CancelToken,
    pub on_progress: Box<dyn FnMut(Progress) + Send>,
    pub work: Work,
}

/// The managed engine state: the job queue and the running jobs' cancel tokens, per chat.
pub struct Engine {
    jobs: Mutex<mpsc::Sender<Job>>,
    running: Mutex<HashMap<String, CancelToken>>,
}

impl Engine {
    /// Starts the engine thread.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("iris-engine".into())
            .spawn(move || Worker::default().run(rx))
            .expect("the OS refused to start the engine thread");
        Self {
            jobs: Mutex::new(tx),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Registers a job for `chat_id` (one at a time per chat) and returns its cancel token.
    pub fn begin(&self, chat_id: &str) -> AppResult<CancelToken> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.contains_key(chat_id) {
            return Err(AppError::plain(
                "BUSY",
                "This chat is still answering. Stop it first, or wait.",
            ));
        }
        let token = CancelToken::new();
        running.insert(chat_id.to_owned(), token.clone());
        Ok(token)
    }

    /// Forgets `chat_id`'s job (it has ended).
    pub fn end(&self, chat_id: &str) {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(chat_id);
    }

    /// Cancels `chat_id`'s job, if one runs; the answer stops after the current token.
    pub fn stop(&self, chat_id: &str) -> bool {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.get(chat_id).map(CancelToken::cancel).is_some()
    }

    /// Queues a job; its result arrives on `job.done`.
    pub fn submit(&self, job: Job) -> AppResult<()> {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| {
                AppError::plain("GENERATION_FAILED", "The engine has stopped; restart Iris.")
            })
    }
}

/// The engine thread's state.
#[derive(Default)]
struct Worker {
    loaded: Option<(Placement, Session)>,
}

impl Worker {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        while let Ok(job) = rx.recv() {
            let Job {
                placement,
                request,
                cancel,
                mut on_progress,
                work,
            } = job;
            match work {
                Work::Chat(done) => {
                    let result = self.guarded(|worker| {
                        let session = worker.ready(&placement, &cancel, &mut on_progress)?;
                        session
                            .generate(&request, &cancel, |piece| {
                                on_progress(Progress::Text(piece.to_owned()))
                            })
                            .map_err(|e| AppError::from_session(&e))
                    });
                    let _ = done.send(result);
                }
                Work::Ocr(done) => {
                    let result = self.guarded(|worker| {
                        let session = worker.ready(&placement, &cancel, &mut on_progress)?;
                        let page =
                            request.images.first().cloned().ok_or_else(|| {
                                AppError::invalid_input("There is no page to read.")
                            })?;
                        iris_models::ocr::read_page(
                            session,
                            page,
                            request.max_new_tokens,
                            &cancel,
                            |piece| on_progress(Progress::Text(piece.to_owned())),
                        )
                        .map_err(|e| AppError::from_session(&e))
                    });
                    let _ = done.send(result);
                }
                Work::Explain(done) => {
                    let result = self.guarded(|worker| {
                        let session = worker.ready(&placement, &cancel, &mut on_progress)?;
                        let mut on_text =
                            |piece: &str| on_progress(Progress::Text(piece.to_owned()));
                        crate::explain::capture(session, &request, &cancel, &mut on_text)
                            .map(Box::new)
                    });
                    let _ = done.send(result);
                }
            }
        }
    }

    /// Runs engine work, turning a panic into an error (and dropping the model, since the
    /// device may be in a bad state: it loads afresh next time).
    fn guarded<T>(&mut self, work: impl FnOnce(&mut Self) -> AppResult<T>) -> AppResult<T> {
        match catch_unwind(AssertUnwindSafe(|| work(self))) {
            Ok(result) => result,
            Err(panic) => {
                self.loaded = None;
                Err(AppError::from_panic(panic.as_ref()))
            }
        }
    }

    /// The session for `placement`, unless the job was cancelled while it waited.
    fn ready(
        &mut self,
        placement: &Placement,
        cancel: &CancelToken,
        on_progress: &mut Box<dyn FnMut(Progress) + Send>,
    ) -> AppResult<&Session> {
        if cancel.is_cancelled() {
            return Err(AppError::cancelled());
        }
        self.session_for(placement, on_progress)
    }

    /// The loaded session for `placement`, loading it (and dropping another) when needed.
    fn session_for(
        &mut self,
        placement: &Placement,
        on_progress: &mut Box<dyn FnMut(Progress) + Send>,
    ) -> AppResult<&Session> {
        if self.loaded.as_ref().is_none_or(|(p, _)| p != placement) {
            // Free the old model's memory before the new one takes its place.
            self.loaded = None;
            on_progress(Progress::Loading {
                fraction: 0.0,
                stage: "Finding the device".into(),
            });
            let (device, label) = match placement.device {
                DeviceSetting::Choice(choice) => resolve(choice),
                DeviceSetting::Adapter(index) => resolve_adapter(index).ok_or_else(|| {
                    AppError::plain(
                        "MODEL_LOAD_FAILED",
                        "The GPU chosen in Settings is not available now. Choose another device.",
                    )
                })?,
            };
            let stage = format!("Loading weights on {label}");
            let mut report = |p: iris_models::weights::LoadProgress| {
                on_progress(Progress::Loading {
                    fraction: p.fraction(),
                    stage: stage.clone(),
                })
            };
            let session = Session::load_reporting(
                &placement.model_dir,
                device,
                label.clone(),
                placement.precision,
                &mut report,
            )
            .map_err(|e| AppError::from_session(&e))?;
            on_progress(Progress::Loading {
                fraction: 1.0,
                stage: format!("Ready on {label}"),
            });
            self.loaded = Some((placement.clone(), session));
        }
        match &self.loaded {
            Some((_, session)) => Ok(session),
            None => Err(AppError::plain(
                "MODEL_LOAD_FAILED",
                "The model did not load.",
            )),
        }
    }
}
