// SPDX-License-Identifier: ISC
// Reading the files the configuration names (filter-arc.toml, key files, the trusted-sealers
// file) at startup and on SIGHUP. A reload runs inside the event loop, so no read may block or
// grow without bound: a FIFO path or /dev/zero must give a clear error, never a hang.
#pragma once

#include <cstddef>
#include <string>
#include <sys/stat.h>

namespace arcf::filter {

/// The largest configuration-related file read (limits table: "configuration file bytes").
inline constexpr std::size_t max_config_file_bytes = 1024 * 1024;

/// Reads the regular file `path` whole, opened non-blocking so that opening a FIFO cannot wait
/// for a writer. A path that is not a regular file (FIFO, device, directory, socket), a file
/// over `max_bytes`, or any open/read error gives false and an `error` naming the path and the
/// reason (errno text). `st` (optional) receives the file's status, from the open descriptor.
bool read_config_file(const std::string& path,
                      std::string& out,
                      std::string& error,
                      struct stat* st = nullptr,
                      std::size_t max_bytes = max_config_file_bytes);

} // namespace arcf::filter
