// SPDX-License-Identifier: ISC
// Reading the files the configuration names (filter-arc.toml, key files, the trusted-sealers
// file) at startup and on SIGHUP. A reload runs inside the event loop, so no read may block or
// grow without bound: a FIFO path or /dev/zero must give a clear error, never a hang.
#pragma once

#include <cstddef>
#include <string>
#include <sys/stat.h>

namespace arcf::filter {

/// The largest configuration-related file read (limits table: "configuration file bytes"):
/// filter-arc.toml and the trusted-sealers file.
inline constexpr std::size_t max_config_file_bytes = 1024 * 1024;
/// The largest private key file read (limits table: "key file bytes"). An RSA-16384 key in PEM
/// is about 12 KiB; anything much larger is not a key.
inline constexpr std::size_t max_key_file_bytes = 64 * 1024;

/// The user this process runs as, for error messages: its name, or "uid N" without one.
/// smtpd runs proc-exec filters as `opensmtpd` on Debian, so "Permission denied" alone would
/// not say whose permission is missing.
std::string running_user();

/// Reads the regular file `path` whole, opened non-blocking so that opening a FIFO cannot wait
/// for a writer. A path that is not a regular file (FIFO, device, directory, socket), a file
/// over `max_bytes`, or any open/read error gives false and an `error` naming the path, the
/// reason (errno text) and the user: "cannot read PATH: Permission denied (user opensmtpd)".
/// Symbolic links are followed (configuration management often links files into /etc); what
/// counts is the file they lead to, checked on the open descriptor (fstat), so a FIFO or a
/// device behind a link is refused like one named directly.
/// `st` (optional) receives the file's status, from the open descriptor.
bool read_config_file(const std::string& path,
                      std::string& out,
                      std::string& error,
                      struct stat* st = nullptr,
                      std::size_t max_bytes = max_config_file_bytes);

} // namespace arcf::filter
