//! The named constants of [`hresult`](super): facilities, general COM and Win32 codes, the
//! Background Copy `BG_S_*`/`BG_E_*` codes, the named HTTP statuses and the Delivery Optimization
//! `DO_E_*` codes, with the values of spec section 4. The parent module re-exports all of them.
//!
//! Each code here must also have a row in the private `catalogue` table; a unit test of the parent
//! module reads this file and checks that.

// ---------------------------------------------------------------------------------------------
// Facilities
// ---------------------------------------------------------------------------------------------

/// Facility of codes converted from Win32 error numbers (`0x8007_xxxx`).
pub const FACILITY_WIN32: u16 = 7;
/// Facility of HTTP status codes (`0x8019_xxxx`).
pub const FACILITY_HTTP: u16 = 0x19;
/// Facility of Background Copy (BITS) codes (`0x8020_xxxx` and `0x0020_xxxx`).
pub const FACILITY_BACKGROUNDCOPY: u16 = 0x20;
/// Facility of Delivery Optimization codes (`0x80D0_xxxx`).
pub const FACILITY_DELIVERY_OPTIMIZATION: u16 = 0xD0;

// ---------------------------------------------------------------------------------------------
// General COM and Win32 HRESULTs (spec 4.2)
// ---------------------------------------------------------------------------------------------

/// Success.
pub const S_OK: u32 = 0x0000_0000;
/// Success with a partial answer, such as an enumerator that returned fewer items than asked for.
pub const S_FALSE: u32 = 0x0000_0001;
/// The method, or the option value passed to it, is not implemented.
pub const E_NOTIMPL: u32 = 0x8000_4001;
/// The data is not available yet: the operation it needs has not finished (`E_PENDING`).
pub const E_PENDING: u32 = 0x8000_000A;
/// The object does not offer the requested interface.
pub const E_NOINTERFACE: u32 = 0x8000_4002;
/// A pointer argument was null where a valid pointer is required.
pub const E_POINTER: u32 = 0x8000_4003;
/// The operation was stopped before it finished.
pub const E_ABORT: u32 = 0x8000_4004;
/// A failure with no more specific code.
pub const E_FAIL: u32 = 0x8000_4005;
/// A failure that should not be possible (catastrophic failure).
pub const E_UNEXPECTED: u32 = 0x8000_FFFF;
/// The caller lacks the rights for the operation (Win32 `ERROR_ACCESS_DENIED`, 5).
pub const E_ACCESSDENIED: u32 = 0x8007_0005;
/// Memory could not be allocated (Win32 `ERROR_OUTOFMEMORY`, 14).
pub const E_OUTOFMEMORY: u32 = 0x8007_000E;
/// An argument is invalid: null, too long, badly formed or out of range (Win32 87).
pub const E_INVALIDARG: u32 = 0x8007_0057;
/// A property has no value because it was never set (Win32 `ERROR_NOT_FOUND`, 1168).
pub const E_NOT_SET: u32 = 0x8007_0490;
/// No text exists in the requested language (Win32 `ERROR_RESOURCE_LANG_NOT_FOUND`, 1815).
pub const ERROR_RESOURCE_LANG_NOT_FOUND_HR: u32 = 0x8007_0717;
/// A file does not exist (Win32 `ERROR_FILE_NOT_FOUND`, 2); bgcopy's code for a missing file.
pub const ERROR_FILE_NOT_FOUND_HR: u32 = 0x8007_0002;
/// A directory on the path does not exist (Win32 `ERROR_PATH_NOT_FOUND`, 3).
pub const ERROR_PATH_NOT_FOUND_HR: u32 = 0x8007_0003;
/// The medium is write-protected or the file system read-only (Win32 `ERROR_WRITE_PROTECT`, 19).
pub const ERROR_WRITE_PROTECT_HR: u32 = 0x8007_0013;
/// The end of a file was reached too early (Win32 `ERROR_HANDLE_EOF`, 38).
pub const ERROR_HANDLE_EOF_HR: u32 = 0x8007_0026;
/// The disk is full (Win32 `ERROR_DISK_FULL`, 112).
pub const ERROR_DISK_FULL_HR: u32 = 0x8007_0070;
/// A file already exists at the name (Win32 `ERROR_ALREADY_EXISTS`, 183).
pub const ERROR_ALREADY_EXISTS_HR: u32 = 0x8007_00B7;
/// A path that should name a directory does not (Win32 `ERROR_DIRECTORY`, 267).
pub const ERROR_DIRECTORY_HR: u32 = 0x8007_010B;
/// A file is in use by another process (Win32 `ERROR_SHARING_VIOLATION`, 32); bgcopy's code
/// for a store that another process holds.
pub const ERROR_SHARING_VIOLATION_HR: u32 = 0x8007_0020;
/// The data was written by a newer revision than the reader supports (Win32
/// `ERROR_REVISION_MISMATCH`, 1306); bgcopy's code for a store written by a newer bgcopy.
pub const ERROR_REVISION_MISMATCH_HR: u32 = 0x8007_051A;
/// An operation timed out (Win32 `ERROR_TIMEOUT`, 1460).
pub const ERROR_TIMEOUT_HR: u32 = 0x8007_05B4;

// ---------------------------------------------------------------------------------------------
// Background Copy success codes (spec 4.3)
// ---------------------------------------------------------------------------------------------

/// Success value reported as the error context when nothing has gone wrong.
pub const BG_S_ERROR_CONTEXT_NONE: u32 = 0x0020_0006;
/// `Complete` kept only the files that finished; the unfinished ones were deleted.
pub const BG_S_PARTIAL_COMPLETE: u32 = 0x0020_0017;
/// The job finished but some of its temporary files could not be removed.
pub const BG_S_UNABLE_TO_DELETE_FILES: u32 = 0x0020_001A;
/// The proxy server in use changed.
pub const BG_S_PROXY_CHANGED: u32 = 0x0020_002A;
/// The preference was stored, but a Group Policy setting wins over it.
pub const BG_S_OVERRIDDEN_BY_POLICY: u32 = 0x0020_0055;

// ---------------------------------------------------------------------------------------------
// Background Copy failure codes (spec 4.3)
// ---------------------------------------------------------------------------------------------

/// No job with the given identifier exists (for this caller).
pub const BG_E_NOT_FOUND: u32 = 0x8020_0001;
/// The job's state forbids the call; cancelled and acknowledged jobs are read-only.
pub const BG_E_INVALID_STATE: u32 = 0x8020_0002;
/// The job has no files to transfer.
pub const BG_E_EMPTY: u32 = 0x8020_0003;
/// The error record does not refer to a file.
pub const BG_E_FILE_NOT_AVAILABLE: u32 = 0x8020_0004;
/// The error record does not refer to a protocol.
pub const BG_E_PROTOCOL_NOT_AVAILABLE: u32 = 0x8020_0005;
/// Error context: where the error arose is not known.
pub const BG_E_ERROR_CONTEXT_UNKNOWN: u32 = 0x8020_0007;
/// Error context: the queue manager raised the error.
pub const BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER: u32 = 0x8020_0008;
/// Error context: the error arose while working on the local file.
pub const BG_E_ERROR_CONTEXT_LOCAL_FILE: u32 = 0x8020_0009;
/// Error context: the error arose while working on the remote file.
pub const BG_E_ERROR_CONTEXT_REMOTE_FILE: u32 = 0x8020_000A;
/// Error context: the transport layer failed, for example it could not connect.
pub const BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT: u32 = 0x8020_000B;
/// Error context: notifying the application failed; the notification is retried.
pub const BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION: u32 = 0x8020_000C;
/// The destination volume is locked (for example by a disk check); retried once it is free.
pub const BG_E_DESTINATION_LOCKED: u32 = 0x8020_000D;
/// The destination volume was swapped for another one.
pub const BG_E_VOLUME_CHANGED: u32 = 0x8020_000E;
/// There is no error to report: the job is not in an error state, or the transfer resumed.
pub const BG_E_ERROR_INFORMATION_UNAVAILABLE: u32 = 0x8020_000F;
/// No network connection is up; jobs wait in the transient-error state.
pub const BG_E_NETWORK_DISCONNECTED: u32 = 0x8020_0010;
/// The server sent no Content-Length, as dynamic content often does.
pub const BG_E_MISSING_FILE_SIZE: u32 = 0x8020_0011;
/// The server does not speak HTTP/1.1.
pub const BG_E_INSUFFICIENT_HTTP_SUPPORT: u32 = 0x8020_0012;
/// The server or a proxy ignores the Range and Content-Range headers.
pub const BG_E_INSUFFICIENT_RANGE_SUPPORT: u32 = 0x8020_0013;
/// The service cannot be used from a remote session.
pub const BG_E_REMOTE_NOT_SUPPORTED: u32 = 0x8020_0014;
/// The new job owner maps the destination drive differently.
pub const BG_E_NEW_OWNER_DIFF_MAPPING: u32 = 0x8020_0015;
/// The new job owner cannot reach the job's temporary files.
pub const BG_E_NEW_OWNER_NO_FILE_ACCESS: u32 = 0x8020_0016;
/// The proxy server list exceeds the allowed length.
pub const BG_E_PROXY_LIST_TOO_LARGE: u32 = 0x8020_0018;
/// The proxy bypass list exceeds the allowed length.
pub const BG_E_PROXY_BYPASS_LIST_TOO_LARGE: u32 = 0x8020_0019;
/// The server broke the transfer protocol; the transfer is retried.
pub const BG_E_INVALID_SERVER_RESPONSE: u32 = 0x8020_001B;
/// The job cannot take more files (an upload job holds exactly one).
pub const BG_E_TOO_MANY_FILES: u32 = 0x8020_001C;
/// The local file of an upload changed while it was being sent.
pub const BG_E_LOCAL_FILE_CHANGED: u32 = 0x8020_001D;
/// Error context: the application on the server reported the error.
pub const BG_E_ERROR_CONTEXT_REMOTE_APPLICATION: u32 = 0x8020_001E;
/// The server does not know the upload session; the upload is retried.
pub const BG_E_SESSION_NOT_FOUND: u32 = 0x8020_001F;
/// The upload exceeds the size the server accepts.
pub const BG_E_TOO_LARGE: u32 = 0x8020_0020;
/// A string argument exceeds its length limit.
pub const BG_E_STRING_TOO_LONG: u32 = 0x8020_0021;
/// Client and server found no upload protocol they both support.
pub const BG_E_CLIENT_SERVER_PROTOCOL_MISMATCH: u32 = 0x8020_0022;
/// The server's upload directory allows scripts or executables (the docs spell it `..._ENABLED`).
pub const BG_E_SERVER_EXECUTE_ENABLE: u32 = 0x8020_0023;
/// The job has stopped making progress; it is tried again later.
pub const BG_E_NO_PROGRESS: u32 = 0x8020_0024;
/// The user name exceeds 300 characters.
pub const BG_E_USERNAME_TOO_LARGE: u32 = 0x8020_0025;
/// The password exceeds its length limit.
pub const BG_E_PASSWORD_TOO_LARGE: u32 = 0x8020_0026;
/// The credential target value is not recognised.
pub const BG_E_INVALID_AUTH_TARGET: u32 = 0x8020_0027;
/// The credential scheme value is not recognised.
pub const BG_E_INVALID_AUTH_SCHEME: u32 = 0x8020_0028;
/// The named file does not belong to the job.
pub const BG_E_FILE_NOT_FOUND: u32 = 0x8020_0029;
/// A byte range reaches past the end of the file.
pub const BG_E_INVALID_RANGE: u32 = 0x8020_002B;
/// Byte ranges overlap or repeat.
pub const BG_E_OVERLAPPING_RANGES: u32 = 0x8020_002C;
/// No connection to the server could be set up.
pub const BG_E_CONNECT_FAILURE: u32 = 0x8020_002D;
/// The connection ended before the transfer did.
pub const BG_E_CONNECTION_CLOSED: u32 = 0x8020_002E;
/// Group Policy does not allow background transfers right now.
pub const BG_E_BLOCKED_BY_POLICY: u32 = 0x8020_003E;
/// The proxy list or bypass list turned out to be invalid at run time.
pub const BG_E_INVALID_PROXY_INFO: u32 = 0x8020_003F;
/// The credentials are badly formed.
pub const BG_E_INVALID_CREDENTIALS: u32 = 0x8020_0040;
/// The hash algorithm is not supported.
pub const BG_E_INVALID_HASH_ALGORITHM: u32 = 0x8020_0041;
/// The peer-cache record was deleted.
pub const BG_E_RECORD_DELETED: u32 = 0x8020_0042;
/// Another thread is updating the peer-cache record.
pub const BG_E_COMMIT_IN_PROGRESS: u32 = 0x8020_0043;
/// Discovery of neighbouring peers is still running.
pub const BG_E_DISCOVERY_IN_PROGRESS: u32 = 0x8020_0044;
/// The `UPnP` gateway returned an error.
pub const BG_E_UPNP_ERROR: u32 = 0x8020_0045;
/// A test option prevents the download.
pub const BG_E_TEST_OPTION_BLOCKED_DOWNLOAD: u32 = 0x8020_0046;
/// Peer caching is switched off.
pub const BG_E_PEERCACHING_DISABLED: u32 = 0x8020_0047;
/// The peer-cache record is busy.
pub const BG_E_BUSYCACHERECORD: u32 = 0x8020_0048;
/// The user has reached the per-user job limit (`MaxJobsPerUser`).
pub const BG_E_TOO_MANY_JOBS_PER_USER: u32 = 0x8020_0049;
/// The machine has reached the per-machine job limit (`MaxJobsPerMachine`).
pub const BG_E_TOO_MANY_JOBS_PER_MACHINE: u32 = 0x8020_0050;
/// The job has reached the per-job file limit (`MaxFilesPerJob`).
pub const BG_E_TOO_MANY_FILES_IN_JOB: u32 = 0x8020_0051;
/// The file has reached the per-file range limit (`MaxRangesPerFile`).
pub const BG_E_TOO_MANY_RANGES_IN_FILE: u32 = 0x8020_0052;
/// The web site's answer failed validation.
pub const BG_E_VALIDATION_FAILED: u32 = 0x8020_0053;
/// The job ran past its maximum download time (`MaxDownloadTime`).
pub const BG_E_MAXDOWNLOAD_TIMEOUT: u32 = 0x8020_0054;
/// The job needs a helper token; set one and resume the job.
pub const BG_E_TOKEN_REQUIRED: u32 = 0x8020_0056;
/// The job property identifier is not known.
pub const BG_E_UNKNOWN_PROPERTY_ID: u32 = 0x8020_0057;
/// The job property cannot be written.
pub const BG_E_READ_ONLY_PROPERTY: u32 = 0x8020_0058;
/// The job's cost policy forbids transferring on the current network.
pub const BG_E_BLOCKED_BY_COST_TRANSFER_POLICY: u32 = 0x8020_0059;
/// The property applies to download jobs only.
pub const BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY: u32 = 0x8020_0060;
/// The property can no longer change once a file was added.
pub const BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE: u32 = 0x8020_0061;
/// The property can no longer change once the job was resumed.
pub const BG_E_READ_ONLY_PROPERTY_AFTER_RESUME: u32 = 0x8020_0062;
/// The maximum download size must lie in `1..=u64::MAX`.
pub const BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE: u32 = 0x8020_0063;
/// The job has downloaded as much as its maximum download size allows.
pub const BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED: u32 = 0x8020_0064;
/// Transfers are paused to save power (standby mode).
pub const BG_E_STANDBY_MODE: u32 = 0x8020_0065;
/// Stored credentials are allowed only for the proxy target.
pub const BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED: u32 = 0x8020_0066;
/// Transfers are paused while running on battery.
pub const BG_E_BLOCKED_BY_BATTERY_POLICY: u32 = 0x8020_0067;
/// Transfers are paused by battery saver.
pub const BG_E_BLOCKED_BY_BATTERY_SAVER: u32 = 0x8020_0068;
/// An operation ran longer than it was expected to.
pub const BG_E_WATCHDOG_TIMEOUT: u32 = 0x8020_0069;
/// The app package that owns the job is missing.
pub const BG_E_APP_PACKAGE_NOT_FOUND: u32 = 0x8020_006A;
/// Jobs owned by app packages are not supported on this device.
pub const BG_E_APP_PACKAGE_SCENARIO_NOT_SUPPORTED: u32 = 0x8020_006B;
/// The service's persistent state is corrupt and the service stops.
pub const BG_E_DATABASE_CORRUPT: u32 = 0x8020_006C;
/// Random access to the file (`IBackgroundCopyFile6`) is not available for this transfer.
pub const BG_E_RANDOM_ACCESS_NOT_SUPPORTED: u32 = 0x8020_006D;
/// The app's background-access setting blocks the transfer.
pub const BG_E_BLOCKED_BY_BACKGROUND_ACCESS_POLICY: u32 = 0x8020_006E;
/// Transfers are paused while Game Mode is on.
pub const BG_E_BLOCKED_BY_GAME_MODE: u32 = 0x8020_006F;
/// Transfers are paused because system resources are scarce.
pub const BG_E_BLOCKED_BY_SYSTEM_POLICY: u32 = 0x8020_0070;
/// The call is not allowed on a job that uses a custom HTTP method.
pub const BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD: u32 = 0x8020_0071;
/// The job's configuration does not fit the request.
pub const BG_E_UNSUPPORTED_JOB_CONFIGURATION: u32 = 0x8020_0072;
/// The remote file changed mid-transfer; resume the job to try again.
pub const BG_E_REMOTE_FILE_CHANGED: u32 = 0x8020_0073;
/// A server-certificate validation callback object is required but missing.
pub const BG_E_SERVER_CERT_VALIDATION_INTERFACE_REQUIRED: u32 = 0x8020_0074;
/// The call is allowed only while the job is suspended, in error, or transferred.
pub const BG_E_READ_ONLY_WHEN_JOB_ACTIVE: u32 = 0x8020_0075;
/// Error context: the server-certificate validation callback failed.
pub const BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK: u32 = 0x8020_0076;

// ---------------------------------------------------------------------------------------------
// HTTP statuses that Windows names (spec 4.4): 0x8019_0000 | status
// ---------------------------------------------------------------------------------------------

/// HTTP 100 Continue.
pub const BG_E_HTTP_ERROR_100: u32 = 0x8019_0064;
/// HTTP 101 Switching Protocols.
pub const BG_E_HTTP_ERROR_101: u32 = 0x8019_0065;
/// HTTP 200 OK where another answer was expected; treated as an invalid server response.
pub const BG_E_HTTP_ERROR_200: u32 = 0x8019_00C8;
/// HTTP 201 Created.
pub const BG_E_HTTP_ERROR_201: u32 = 0x8019_00C9;
/// HTTP 202 Accepted.
pub const BG_E_HTTP_ERROR_202: u32 = 0x8019_00CA;
/// HTTP 203 Non-Authoritative Information.
pub const BG_E_HTTP_ERROR_203: u32 = 0x8019_00CB;
/// HTTP 204 No Content.
pub const BG_E_HTTP_ERROR_204: u32 = 0x8019_00CC;
/// HTTP 205 Reset Content; treated as an invalid server response.
pub const BG_E_HTTP_ERROR_205: u32 = 0x8019_00CD;
/// HTTP 206 Partial Content.
pub const BG_E_HTTP_ERROR_206: u32 = 0x8019_00CE;
/// HTTP 300 Multiple Choices.
pub const BG_E_HTTP_ERROR_300: u32 = 0x8019_012C;
/// HTTP 301 Moved Permanently.
pub const BG_E_HTTP_ERROR_301: u32 = 0x8019_012D;
/// HTTP 302 Found (temporary redirect).
pub const BG_E_HTTP_ERROR_302: u32 = 0x8019_012E;
/// HTTP 303 See Other.
pub const BG_E_HTTP_ERROR_303: u32 = 0x8019_012F;
/// HTTP 304 Not Modified; treated as an invalid server response.
pub const BG_E_HTTP_ERROR_304: u32 = 0x8019_0130;
/// HTTP 305 Use Proxy.
pub const BG_E_HTTP_ERROR_305: u32 = 0x8019_0131;
/// HTTP 307 Temporary Redirect.
pub const BG_E_HTTP_ERROR_307: u32 = 0x8019_0133;
/// HTTP 400 Bad Request.
pub const BG_E_HTTP_ERROR_400: u32 = 0x8019_0190;
/// HTTP 401 Unauthorized.
pub const BG_E_HTTP_ERROR_401: u32 = 0x8019_0191;
/// HTTP 402 Payment Required; treated as an invalid server response.
pub const BG_E_HTTP_ERROR_402: u32 = 0x8019_0192;
/// HTTP 403 Forbidden.
pub const BG_E_HTTP_ERROR_403: u32 = 0x8019_0193;
/// HTTP 404 Not Found.
pub const BG_E_HTTP_ERROR_404: u32 = 0x8019_0194;
/// HTTP 405 Method Not Allowed.
pub const BG_E_HTTP_ERROR_405: u32 = 0x8019_0195;
/// HTTP 406 Not Acceptable.
pub const BG_E_HTTP_ERROR_406: u32 = 0x8019_0196;
/// HTTP 407 Proxy Authentication Required.
pub const BG_E_HTTP_ERROR_407: u32 = 0x8019_0197;
/// HTTP 408 Request Timeout.
pub const BG_E_HTTP_ERROR_408: u32 = 0x8019_0198;
/// HTTP 409 Conflict.
pub const BG_E_HTTP_ERROR_409: u32 = 0x8019_0199;
/// HTTP 410 Gone.
pub const BG_E_HTTP_ERROR_410: u32 = 0x8019_019A;
/// HTTP 411 Length Required.
pub const BG_E_HTTP_ERROR_411: u32 = 0x8019_019B;
/// HTTP 412 Precondition Failed.
pub const BG_E_HTTP_ERROR_412: u32 = 0x8019_019C;
/// HTTP 413 Content Too Large (formerly Request Entity Too Large).
pub const BG_E_HTTP_ERROR_413: u32 = 0x8019_019D;
/// HTTP 414 URI Too Long.
pub const BG_E_HTTP_ERROR_414: u32 = 0x8019_019E;
/// HTTP 415 Unsupported Media Type; treated as an invalid server response.
pub const BG_E_HTTP_ERROR_415: u32 = 0x8019_019F;
/// HTTP 416 Range Not Satisfiable.
pub const BG_E_HTTP_ERROR_416: u32 = 0x8019_01A0;
/// HTTP 417 Expectation Failed.
pub const BG_E_HTTP_ERROR_417: u32 = 0x8019_01A1;
/// HTTP 449 Retry With (a Microsoft extension); treated as an invalid server response.
pub const BG_E_HTTP_ERROR_449: u32 = 0x8019_01C1;
/// HTTP 500 Internal Server Error.
pub const BG_E_HTTP_ERROR_500: u32 = 0x8019_01F4;
/// HTTP 501 Not Implemented.
pub const BG_E_HTTP_ERROR_501: u32 = 0x8019_01F5;
/// HTTP 502 Bad Gateway.
pub const BG_E_HTTP_ERROR_502: u32 = 0x8019_01F6;
/// HTTP 503 Service Unavailable; resume the job later.
pub const BG_E_HTTP_ERROR_503: u32 = 0x8019_01F7;
/// HTTP 504 Gateway Timeout; resume the job later.
pub const BG_E_HTTP_ERROR_504: u32 = 0x8019_01F8;
/// HTTP 505 HTTP Version Not Supported.
pub const BG_E_HTTP_ERROR_505: u32 = 0x8019_01F9;

// ---------------------------------------------------------------------------------------------
// Delivery Optimization (spec 4.5)
// ---------------------------------------------------------------------------------------------

/// Mask that selects the zone bits of a Delivery Optimization code (apply to the low 16 bits).
pub const DO_ZONE_MASK: u32 = 0xF000;
/// Mask that selects the bits compared with [`DO_TRANSIENT_ZONE`].
pub const DO_TRANSIENT_ZONE_MASK: u32 = 0xF800;
/// Zone of the transient Delivery Optimization codes ([`super::is_do_transient`] tests for it).
pub const DO_TRANSIENT_ZONE: u32 = 0x3800;

/// Delivery Optimization was unable to provide its service.
pub const DO_E_NO_SERVICE: u32 = 0x80D0_1001;
/// A download made no progress within the allowed period.
pub const DO_E_DOWNLOAD_NO_PROGRESS: u32 = 0x80D0_2002;
/// No such job.
pub const DO_E_JOB_NOT_FOUND: u32 = 0x80D0_2003;
/// The job contains no files.
pub const DO_E_JOB_EMPTY: u32 = 0x80D0_2004;
/// There are no downloads at all.
pub const DO_E_NO_DOWNLOADS: u32 = 0x80D0_2005;
/// Downloading into a memory stream is not supported for this download.
pub const DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED: u32 = 0x80D0_200B;
/// The job hit its maximum age while neither completed nor cancelled.
pub const DO_E_JOB_TOO_OLD: u32 = 0x80D0_200C;
/// The download has no local path.
pub const DO_E_LOCALPATH_NOT_SET: u32 = 0x80D0_200D;
/// The error is not tied to a file.
pub const DO_E_FILE_NOT_AVAILABLE: u32 = 0x80D0_2010;
/// The property identifier is unknown.
pub const DO_E_UNKNOWN_PROPERTY_ID: u32 = 0x80D0_2011;
/// The property cannot be set.
pub const DO_E_READ_ONLY_PROPERTY: u32 = 0x80D0_2012;
/// The job's state forbids the call (Delivery Optimization's [`BG_E_INVALID_STATE`]).
pub const DO_E_INVALID_STATE: u32 = 0x80D0_2013;
/// There is no error to report.
pub const DO_E_ERROR_INFORMATION_UNAVAILABLE: u32 = 0x80D0_2014;
/// The property cannot be read.
pub const DO_E_WRITE_ONLY_PROPERTY: u32 = 0x80D0_2015;
/// An integrity check is required but no integrity information was supplied.
pub const DO_E_INTEGRITYCHECKINFO_UNSPECIFIED: u32 = 0x80D0_2016;
/// An integrity check is required but the integrity information could not be fetched.
pub const DO_E_INTEGRITYCHECKINFO_UNAVAILABLE: u32 = 0x80D0_2017;
/// No download sink (file or stream) was given.
pub const DO_E_FILE_DOWNLOADSINK_UNSPECIFIED: u32 = 0x80D0_2018;
/// A sink of another kind is already set.
pub const DO_E_FILE_DOWNLOADSINK_ALREADY_SET: u32 = 0x80D0_2019;
/// The file size could not be learned from an HTTP 200 answer.
pub const DO_E_FILE_SIZE_UNKNOWN_HTTP_200: u32 = 0x80D0_201A;
/// A decryption key was supplied but the content is not encrypted.
pub const DO_E_FILE_ENCRYPTION_EXPECTED: u32 = 0x80D0_201B;
/// The file size could not be learned from an HTTP 206 answer.
pub const DO_E_FILE_SIZE_UNKNOWN_HTTP_206: u32 = 0x80D0_201C;
/// The file size could not be learned from some other 2xx answer.
pub const DO_E_FILE_SIZE_UNKNOWN_HTTP_2XX: u32 = 0x80D0_201D;
/// The user has to consent to network access first.
pub const DO_E_NETWORK_ACCESS_CONSENT_NEEDED: u32 = 0x80D0_201E;
/// A download was started with no URI.
pub const DO_E_DOWNLOAD_NO_URI: u32 = 0x80D0_2200;
/// A download was started with no content identifier.
pub const DO_E_DOWNLOAD_NO_CONTENT_ID: u32 = 0x80D0_2201;
/// The content identifier is invalid.
pub const DO_E_INVALID_CONTENT_ID: u32 = 0x80D0_2202;
/// Ranges were given to a download that does not expect them.
pub const DO_E_DOWNLOAD_RANGES_UNEXPECTED: u32 = 0x80D0_2203;
/// Ranges are required for this download but were not given.
pub const DO_E_DOWNLOAD_RANGES_EXPECTED: u32 = 0x80D0_2204;
/// Participation throttling blocks the download.
pub const DO_E_NO_DOWNLOAD_PARTICIPATION: u32 = 0x80D0_3001;
/// User or administrator settings block the download.
pub const DO_E_NO_DOWNLOAD_EXTSETTINGS: u32 = 0x80D0_3002;
/// Transient: paused by the cost policy.
pub const DO_E_BLOCKED_BY_COST_TRANSFER_POLICY: u32 = 0x80D0_3801;
/// Transient zone: the download mode is limited by a content policy.
pub const DO_E_DOWNLOADMODE_SET_BY_CP: u32 = 0x80D0_3802;
/// Transient: paused on a cellular network that policy restricts.
pub const DO_E_BLOCKED_BY_CELLULAR_POLICY: u32 = 0x80D0_3803;
/// Transient: paused because the machine left AC power.
pub const DO_E_BLOCKED_BY_POWER_STATE: u32 = 0x80D0_3804;
/// Transient: paused because network connectivity was lost.
pub const DO_E_BLOCKED_BY_NO_NETWORK: u32 = 0x80D0_3805;
/// Transient zone: the download mode is limited by policy.
pub const DO_E_DOWNLOADMODE_SET_BY_POLICY: u32 = 0x80D0_3806;
/// Transient: paused because a VPN was detected.
pub const DO_E_BLOCKED_BY_VPN_POLICY: u32 = 0x80D0_3807;
/// Transient: paused because memory use is critical.
pub const DO_E_BLOCKED_BY_CRITICAL_MEMORY_USAGE: u32 = 0x80D0_3808;
/// Transient zone: the download mode is limited because there is no cache folder.
pub const DO_E_DOWNLOADMODE_SET_BY_CACHE_ABSENCE: u32 = 0x80D0_3809;
/// Transient zone: the Delivery Optimization cloud services are unreachable.
pub const DO_E_CLOUD_SERVICES_UNREACHABLE: u32 = 0x80D0_380A;
/// Transient zone: the download mode is limited for an unregistered caller.
pub const DO_E_DOWNLOADMODE_SET_FOR_UNREG_CALLER: u32 = 0x80D0_380B;
/// Transient zone: a simple-ranges download runs in simple mode.
pub const DO_E_DOWNLOADMODE_SET_FOR_SIMPLE_RANGES: u32 = 0x80D0_380C;
/// Transient zone: paused on an unexpected 2xx answer such as 204.
pub const DO_E_UNEXPECTED_HTTP_STATUS_2XX: u32 = 0x80D0_380D;
/// The server returned a different amount of data than was requested.
pub const DO_E_HTTP_BLOCKSIZE_MISMATCH: u32 = 0x80D0_5001;
/// The server certificate did not validate.
pub const DO_E_HTTP_CERT_VALIDATION: u32 = 0x80D0_5002;
/// The byte range is invalid.
pub const DO_E_INVALID_RANGE: u32 = 0x80D0_5010;
/// The server does not support the Range header.
pub const DO_E_INSUFFICIENT_RANGE_SUPPORT: u32 = 0x80D0_5011;
/// The byte ranges overlap.
pub const DO_E_OVERLAPPING_RANGES: u32 = 0x80D0_5012;
/// Peer-to-peer core: too many bad pieces while uploading.
pub const DO_E_UPLOADING_BAD_PIECES: u32 = 0x80D0_6800;
/// Peer-to-peer core: a fatal error.
pub const DO_E_FATAL_CORE_ERROR: u32 = 0x80D0_6802;
/// Peer-to-peer core: the cloud services answered with empty JSON.
pub const DO_E_SERVICES_RESPONSE_EMPTY: u32 = 0x80D0_6803;
/// Peer-to-peer core: bad or incomplete data arrived for a piece.
pub const DO_E_BAD_INCOMING_DATA: u32 = 0x80D0_6804;
/// Peer-to-peer core: a piece failed its hash check.
pub const DO_E_BAD_PIECE_HASH: u32 = 0x80D0_6805;
/// Peer-to-peer core: a piece failed its hash check; its source is not banned yet.
pub const DO_E_BAD_PIECE_HASH_NO_BAN: u32 = 0x80D0_6806;
/// Peer-to-peer core: the piece is already in the cache.
pub const DO_E_ALREADY_HAVE_PIECE: u32 = 0x80D0_6807;
/// Peer-to-peer core: the piece is no longer in the cache.
pub const DO_E_MISSING_PIECE: u32 = 0x80D0_6808;
/// Peer-to-peer core: the metadata JSON could not be parsed.
pub const DO_E_METAINFO_CONTENT: u32 = 0x80D0_6809;
/// Peer-to-peer core: the metadata version is invalid.
pub const DO_E_METAINFO_VERSION: u32 = 0x80D0_680A;
/// Peer-to-peer core: the swarm is not running.
pub const DO_E_SWARM_NOT_RUNNING: u32 = 0x80D0_680B;
/// Peer-to-peer core: the connection manager does not know the peer.
pub const DO_E_UNRECOGNIZED_CONN: u32 = 0x80D0_680C;
/// Peer-to-peer core: the peer is banned.
pub const DO_E_PEER_BANNED: u32 = 0x80D0_680D;
/// Peer-to-peer core: the client tried to connect to itself.
pub const DO_E_CONNECT_TO_SELF: u32 = 0x80D0_680E;
/// Peer-to-peer core: the socket or peer is already connected.
pub const DO_E_ALREADY_CONNECTED: u32 = 0x80D0_680F;
/// Peer-to-peer core: the connection limit is reached.
pub const DO_E_NO_MORE_CONNECTIONS: u32 = 0x80D0_6810;
/// Peer-to-peer core: the connection was lost.
pub const DO_E_LOST_CONNECTION: u32 = 0x80D0_6811;
/// Peer-to-peer core: the swarm identifier is unknown.
pub const DO_E_UNRECOGNIZED_SWARM: u32 = 0x80D0_6812;
/// Peer-to-peer core: the handshake length is invalid.
pub const DO_E_INVALID_HANDSHAKE_LEN: u32 = 0x80D0_6813;
/// Peer-to-peer core: the socket is closed.
pub const DO_E_SOCKET_CLOSED: u32 = 0x80D0_6814;
/// Peer-to-peer core: a peer message is too long.
pub const DO_E_PEER_MSG_TOO_LONG: u32 = 0x80D0_6815;
/// Peer-to-peer core: a peer message is invalid.
pub const DO_E_INVALID_PEER_MSG: u32 = 0x80D0_6816;
/// Peer-to-peer core: the peer is an upload.
pub const DO_E_PEER_IS_UPLOAD: u32 = 0x80D0_6817;
/// Peer-to-peer core: a swarm that is not peering cannot be pinned.
pub const DO_E_PIN_FAIL_NO_PEERING: u32 = 0x80D0_6818;
/// Peer-to-peer core: a pinned swarm needs a forced delete.
pub const DO_E_DELETE_PINNED_SWARM: u32 = 0x80D0_6819;
/// Peer-to-peer core: the metadata input's hash digest did not match.
pub const DO_E_METAINFO_DIGEST_MATCH: u32 = 0x80D0_681A;
/// Peer-to-peer core: the preliminary hash-of-hashes match failed.
pub const DO_E_METAINFO_HOH_MATCH: u32 = 0x80D0_681B;
/// Peer-to-peer core: the final hash-of-hashes match failed.
pub const DO_E_METAINFO_HOH_FINAL_MATCH: u32 = 0x80D0_681C;
/// Peer-to-peer core: the content length is invalid.
pub const DO_E_METAINFO_CONTENT_LENGTH: u32 = 0x80D0_681D;
/// Peer-to-peer core: the piece size is invalid.
pub const DO_E_METAINFO_PIECE_SIZE: u32 = 0x80D0_681E;
/// Peer-to-peer core: the hash-of-hashes value could not be parsed.
pub const DO_E_METAINFO_PARSE_HOH: u32 = 0x80D0_681F;
/// Peer-to-peer core: the piece-hash array could not be parsed.
pub const DO_E_METAINFO_PARSE_PIECEHASHES: u32 = 0x80D0_6820;
/// Peer-to-peer core: one piece-hash digest could not be parsed.
pub const DO_E_METAINFO_PARSE_ONE_PIECEHASH: u32 = 0x80D0_6821;
/// Peer-to-peer core: the piece-hash file's size is unreadable or wrong.
pub const DO_E_METAINFO_FILE_SIZE: u32 = 0x80D0_6822;
