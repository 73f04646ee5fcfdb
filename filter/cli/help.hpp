// SPDX-License-Identifier: ISC
// Every command's --help text, in one table (filter/cli/help.cpp). `filter-arc --help` prints
// the overview (command ""), `filter-arc COMMAND --help` the command's entry. filter-arc(8)
// describes the same options and exit statuses; tests/docs/man_test.py compares them.
#pragma once

#include <span>
#include <string_view>

namespace arcf::filter {

struct CommandHelp {
    std::string_view command; ///< "" for the overview (and the OpenSMTPD filter mode)
    std::string_view text;    ///< usage, description, options with defaults, exit status, example
};

/// Every entry, the overview first.
std::span<const CommandHelp> help_table();

/// The entry of one command, or nullptr when there is none.
const CommandHelp* find_help(std::string_view command);

} // namespace arcf::filter
