// The op table is complete: every op has a name of its own, a forward (or is a leaf or a view,
// which compute nothing), and a gradient rule or the explicit "not differentiable".
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/op_table.h"

namespace mn {
namespace {

TEST(OpTable, EveryOpIsDefinedOnce) {
    std::set<std::string> names;
    for (size_t i = 0; i < static_cast<size_t>(Op::Count_); ++i) {
        const Op op = static_cast<Op>(i);
        const OpDef& d = op_def(op);
        EXPECT_EQ(d.op, op);
        ASSERT_NE(d.name, nullptr);
        EXPECT_TRUE(names.insert(d.name).second) << "two ops named " << d.name;
        EXPECT_STREQ(op_name(op), d.name);
        const bool computes_nothing = op == Op::None || d.view;
        EXPECT_EQ(d.forward == nullptr, computes_nothing) << d.name;
        EXPECT_NE(d.gradient, nullptr) << d.name << ": give a rule or not_differentiable";
        if (computes_nothing) {
            EXPECT_EQ(d.work_bytes, nullptr) << d.name;
        }
    }
}

}  // namespace
}  // namespace mn
