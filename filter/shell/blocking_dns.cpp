// SPDX-License-Identifier: ISC
#include "filter/shell/blocking_dns.hpp"

namespace arcf::pipeline {

void resolve_blocking(Message& m,
                      const Lookup& lookup,
                      std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto queries = m.take_queries();
        if (queries.empty())
            break;
        if (std::chrono::steady_clock::now() >= deadline) {
            m.on_deadline();
            break;
        }
        std::vector<dns::Question> questions;
        questions.reserve(queries.size());
        for (const auto& q : queries)
            questions.emplace_back(q.type, q.name);
        auto answers = lookup(questions);
        // Matched by id, never by position in a later round.
        for (std::size_t i = 0; i < queries.size() && i < answers.size(); ++i)
            m.on_answer(queries[i].id, answers[i]);
    }
    if (!m.ready())
        m.on_deadline();
}

} // namespace arcf::pipeline
