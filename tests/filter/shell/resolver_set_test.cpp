// SPDX-License-Identifier: ISC
// filter/resolver_set: cancels reach the resolver that issued the query, and replaced resolvers
// are freed once their queries are done.
#include "filter/shell/resolver_set.hpp"
#include "tests/catch.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

using namespace arcf;
using filter::ResolverSet;

namespace {

/// Numbers its queries from 1 like every real resolver; answers only when told to.
struct FakeResolver : dns::Resolver {
    explicit FakeResolver(bool* freed) : freed_(freed) {}
    ~FakeResolver() override { *freed_ = true; }
    QueryId query(dns::RecordType, const std::string& name, Completion done) override {
        names[next_] = name;
        pending[next_] = std::move(done);
        return next_++;
    }
    void cancel(QueryId id) override {
        cancelled.push_back(id);
        pending.erase(id);
    }
    void answer(QueryId id) {
        auto done = std::move(pending.at(id));
        pending.erase(id);
        done(dns::Answer::found({"v=DKIM1"}));
    }
    std::map<QueryId, Completion> pending;
    std::map<QueryId, std::string> names;
    std::vector<QueryId> cancelled;
    QueryId next_ = 1;
    bool* freed_;
};

struct Loop {
    std::deque<std::function<void()>> queue;
    dns::Post post() {
        return [this](std::function<void()> f) { queue.push_back(std::move(f)); };
    }
    void run() {
        while (!queue.empty()) {
            auto f = std::move(queue.front());
            queue.pop_front();
            f();
        }
    }
};

} // namespace

TEST_CASE("a cancel after a reload goes to the resolver that issued the query") {
    Loop loop;
    bool old_freed = false, new_freed = false;
    auto old_owned = std::make_unique<FakeResolver>(&old_freed);
    FakeResolver* old_r = old_owned.get();
    ResolverSet set(std::move(old_owned), loop.post());
    std::vector<ResolverSet::QueryId> answered;
    auto note = [&](ResolverSet::QueryId id) {
        return [&answered, id](dns::Answer) { answered.push_back(id); };
    };

    set.query(10, dns::RecordType::txt, "old._domainkey.a.example", note(10));
    set.query(11, dns::RecordType::txt, "old2._domainkey.a.example", note(11));
    auto new_owned = std::make_unique<FakeResolver>(&new_freed);
    FakeResolver* new_r = new_owned.get();
    set.replace(std::move(new_owned));
    set.query(20, dns::RecordType::txt, "new._domainkey.b.example", note(20));
    REQUIRE(new_r->names.at(1) == "new._domainkey.b.example"); // same number as engine id 10

    set.cancel(10); // issued by the old resolver as its query 1
    CHECK(old_r->cancelled == std::vector<dns::Resolver::QueryId>{1});
    CHECK(new_r->cancelled.empty());
    CHECK(new_r->pending.count(1) == 1); // the new message's query survives

    new_r->answer(1);
    CHECK(answered == std::vector<ResolverSet::QueryId>{20});
    set.cancel(10); // twice: ignored
    set.cancel(20); // already answered: ignored
    CHECK(old_r->cancelled.size() == 1);
    CHECK(new_r->cancelled.empty());
    CHECK_FALSE(new_freed);
    CHECK_FALSE(old_freed);
    loop.run();
    CHECK_FALSE(old_freed); // query 11 is still in flight there
}

TEST_CASE("a replaced resolver is freed once its last query is answered or cancelled") {
    Loop loop;
    bool first_freed = false, second_freed = false, third_freed = false;
    auto first_owned = std::make_unique<FakeResolver>(&first_freed);
    FakeResolver* first = first_owned.get();
    ResolverSet set(std::move(first_owned), loop.post());
    int answers = 0;
    auto count = [&answers](dns::Answer) { ++answers; };

    set.query(1, dns::RecordType::txt, "a.example", count);
    set.query(2, dns::RecordType::a, "b.example", count);
    auto second_owned = std::make_unique<FakeResolver>(&second_freed);
    FakeResolver* second = second_owned.get();
    set.replace(std::move(second_owned));
    CHECK(set.retired() == 1);

    first->answer(1);
    CHECK(answers == 1);
    loop.run();
    CHECK_FALSE(first_freed); // query 2 is still in flight

    set.cancel(2);
    CHECK_FALSE(first_freed); // never freed inside a call: from the loop
    loop.run();
    CHECK(first_freed);
    CHECK(set.retired() == 0);
    CHECK(set.in_flight() == 0);

    // A resolver with nothing in flight is freed as soon as it is replaced.
    set.query(3, dns::RecordType::txt, "c.example", count);
    second->answer(1);
    set.replace(std::make_unique<FakeResolver>(&third_freed));
    loop.run();
    CHECK(second_freed);
    CHECK_FALSE(third_freed); // the current resolver stays
    CHECK(answers == 2);
}

TEST_CASE("a replaced resolver freed after its last answer, not inside it") {
    Loop loop;
    bool freed = false, current_freed = false;
    auto owned = std::make_unique<FakeResolver>(&freed);
    FakeResolver* r = owned.get();
    ResolverSet set(std::move(owned), loop.post());
    bool saw_alive = false;
    set.query(7, dns::RecordType::txt, "k.example", [&](dns::Answer) { saw_alive = !freed; });
    set.replace(std::make_unique<FakeResolver>(&current_freed));
    r->answer(1);
    CHECK(saw_alive);
    CHECK_FALSE(freed);
    loop.run();
    CHECK(freed);
}
