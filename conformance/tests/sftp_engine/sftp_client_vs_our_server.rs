//! OpenSSH's sftp client against our server engine.
