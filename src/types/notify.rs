bitflags::bitflags! {
    /// Which callbacks fire for a job (the `BG_NOTIFY_*` bitmask).
    ///
    /// The default of a new job is `JOB_TRANSFERRED | JOB_ERROR` (`0x3`). `DISABLE` suppresses every
    /// callback whatever the other bits say. `set_notify_flags` refuses bits outside this set
    /// (including `BG_NOTIFY_FILE_RANGES_TRANSFERRED`, 0x20) with `E_NOTIMPL`.
    ///
    /// ```
    /// use bgcopy::BgNotify;
    /// let flags = BgNotify::JOB_TRANSFERRED | BgNotify::JOB_ERROR;
    /// assert_eq!(flags.bits(), 0x3);
    /// assert!(flags.contains(BgNotify::JOB_ERROR));
    /// assert_eq!(BgNotify::from_bits(0x20), None);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    pub struct BgNotify: u32 {
        /// Call `job_transferred` when the job enters `Transferred` (`BG_NOTIFY_JOB_TRANSFERRED`).
        const JOB_TRANSFERRED = 0x0001;
        /// Call `job_error` when the job enters `Error` (`BG_NOTIFY_JOB_ERROR`).
        const JOB_ERROR = 0x0002;
        /// Suppress every callback (`BG_NOTIFY_DISABLE`).
        const DISABLE = 0x0004;
        /// Call `job_modification` when the job changes (`BG_NOTIFY_JOB_MODIFICATION`).
        const JOB_MODIFICATION = 0x0008;
        /// Call `file_transferred` when a file finishes (`BG_NOTIFY_FILE_TRANSFERRED`).
        const FILE_TRANSFERRED = 0x0010;
    }
}

impl BgNotify {
    /// The flags of a new job: `JOB_TRANSFERRED | JOB_ERROR`.
    pub const DEFAULT: BgNotify = BgNotify::JOB_TRANSFERRED.union(BgNotify::JOB_ERROR);

    /// Whether a callback selected by `event` fires under these flags (`DISABLE` clear and the
    /// event's bit set).
    pub const fn fires(self, event: BgNotify) -> bool {
        !self.contains(BgNotify::DISABLE) && self.contains(event)
    }
}

impl Default for BgNotify {
    /// [`BgNotify::DEFAULT`], the flags of a new job.
    fn default() -> Self {
        BgNotify::DEFAULT
    }
}
