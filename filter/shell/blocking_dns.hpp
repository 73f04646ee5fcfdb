// SPDX-License-Identifier: ISC
// The one blocking DNS loop of the modes that serve a single message (Exim, the command line):
// drives a pipeline::Message until it is ready, answering its questions by id.
#pragma once

#include "dns/answer.hpp"
#include "filter/pipeline/message.hpp"

#include <chrono>
#include <functional>
#include <vector>

namespace arcf::pipeline {

/// Answers questions, one answer per question and in their order (a zone file, or c-ares
/// under its own timeout). A missing answer counts as temporary.
using Lookup = std::function<std::vector<dns::Answer>(const std::vector<dns::Question>&)>;

/// Asks `lookup` every question `m` has, round after round (answers lead to further questions:
/// SPF includes, the DMARC organizational domain), until none is left or `deadline` passes;
/// then whatever is unanswered is temporary (Message::on_deadline). Call after end_of_data().
void resolve_blocking(Message& m,
                      const Lookup& lookup,
                      std::chrono::steady_clock::time_point deadline);

} // namespace arcf::pipeline
