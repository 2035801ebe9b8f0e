//! SFTP engine tests.
