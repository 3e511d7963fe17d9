#include "rlhf/formats/pickle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "builders.h"
#include "rlhf/util/error.h"

namespace rlhf::formats::pickle {
namespace {

using testing::PickleWriter;
using ::testing::HasSubstr;

Unpickled run(const std::string& bytes, const Limits& limits = {}) {
  return unpickle("ckpt.bin", "archive/data.pkl", {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()},
                  limits);
}

std::string error_of(const std::string& bytes, const Limits& limits = {}) {
  try {
    run(bytes, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Pickle, ReadsScalars) {
  const auto a = run(std::string("\x80\x02\x8a\x02\xff\x7f.", 7));  // LONG1 0x7fff
  EXPECT_EQ(a.root->kind, Kind::Int);
  EXPECT_EQ(a.root->integer, 0x7fff);
  EXPECT_EQ(run(std::string("\x8a\x01\xff.", 4)).root->integer, -1);
  EXPECT_EQ(run(std::string("\x8a\x00.", 3)).root->integer, 0);
  EXPECT_EQ(run(std::string("\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.", 11)).root->integer, INT64_MIN);
  EXPECT_EQ(run(std::string("J\xfe\xff\xff\xff.", 6)).root->integer, -2);
  EXPECT_EQ(run(std::string("M\x01\x02.", 4)).root->integer, 0x201);
  EXPECT_EQ(run(std::string("G\x3f\xf8\x00\x00\x00\x00\x00\x00.", 10)).root->real, 1.5);
  EXPECT_EQ(run("U\x03" "abc.").root->text, "abc");
  EXPECT_EQ(run(std::string("\x8c\x02hi.", 5)).root->text, "hi");
  EXPECT_EQ(run(std::string("T\x01\x00\x00\x00z.", 7)).root->text, "z");
  EXPECT_EQ(run(std::string("C\x01q.", 4)).root->kind, Kind::Bytes);
  EXPECT_EQ(run("N.").root->kind, Kind::None);
  EXPECT_EQ(run("\x88.").root->integer, 1);
}

TEST(Pickle, BuildsContainersAndMemo) {
  // [1, 2] memoized, then (memo[0], memo[0])
  const auto r = run(std::string("]q\x00(K\x01K\x02" "e0h\x00h\x00\x86.", 16));
  ASSERT_EQ(r.root->kind, Kind::Tuple);
  ASSERT_EQ(r.root->items.size(), 2u);
  EXPECT_EQ(r.root->items[0], r.root->items[1]);
  EXPECT_EQ(r.root->items[0]->items.size(), 2u);
  // protocol 4: FRAME, MEMOIZE, STACK_GLOBAL
  PickleWriter w;
  w.proto(4).op(0x95).raw(std::string(8, '\0')).op(0x8c).byte(11).raw("collections").op(0x94);
  w.op(0x8c).byte(11).raw("OrderedDict").op(0x93).empty_tuple().reduce().stop();
  EXPECT_EQ(run(w.str()).root->kind, Kind::Dict);
}

TEST(Pickle, SelfReferenceDoesNotLeakOrLoop) {
  const auto r = run(std::string("}q\x00h\x00h\x00s.", 9));  // d[d] = d
  ASSERT_EQ(r.root->kind, Kind::Dict);
  EXPECT_EQ(r.root->items[0], r.root);
}

TEST(Pickle, BuildOnOrderedDictIsIgnored) {
  PickleWriter w;
  w.proto().global("collections", "OrderedDict").empty_tuple().reduce();
  w.empty_dict().str("_metadata").global("collections", "OrderedDict").empty_tuple().reduce().setitem().build().stop();
  EXPECT_EQ(run(w.str()).root->kind, Kind::Dict);
  PickleWriter bad;
  bad.proto().empty_list().empty_dict().build().stop();
  EXPECT_THAT(error_of(bad.str()), HasSubstr("BUILD on a list is not supported"));
}

TEST(Pickle, ErrorsNameFileEntryAndByte) {
  EXPECT_EQ(error_of("N\x8a\x09"), "ckpt.bin: archive/data.pkl, byte 1: integer of 9 bytes is wider than 64 bits");
  EXPECT_THAT(error_of("NN"), HasSubstr("ckpt.bin: archive/data.pkl, byte 2: the pickle ends without STOP"));
  EXPECT_THAT(error_of(std::string("X\xff\xff\x00\x00" "abc.", 9)), HasSubstr("byte 0: the pickle is truncated"));
  EXPECT_THAT(error_of(std::string("\x8d\xff\xff\xff\xff\xff\xff\xff\xff.", 10)), HasSubstr("truncated"));
  EXPECT_THAT(error_of("ctorch\nFloatStorage"), HasSubstr("GLOBAL without end of line"));
  EXPECT_THAT(error_of("h\x07."), HasSubstr("memo entry 7 was never stored"));
  EXPECT_THAT(error_of("."), HasSubstr("stack underflow"));
  EXPECT_THAT(error_of("}(s."), HasSubstr("stack underflow"));  // SETITEM may not reach below a MARK
  EXPECT_THAT(error_of("t."), HasSubstr("no MARK to pop to"));
  EXPECT_THAT(error_of("(K\x01u."), HasSubstr("odd number"));
  EXPECT_THAT(error_of("K\x03K\x01K\x02s."), HasSubstr("the target of SETITEM(S) must be a dict, got an int"));
  EXPECT_THAT(error_of("\x80\x06."), HasSubstr("pickle protocol newer than 5"));
  EXPECT_THAT(error_of("i__main__\nX\n."), HasSubstr("byte 0: unsupported pickle opcode 0x69"));
  EXPECT_THAT(error_of("T\xff\xff\xff\xff."), HasSubstr("negative string length"));
}

TEST(Pickle, RejectsCallsItDoesNotKnow) {
  EXPECT_THAT(error_of("cbuiltins\neval\n."), HasSubstr("unsupported pickle global 'builtins.eval'"));
  EXPECT_THAT(error_of("ctorch\nComplexFloatStorage\n."), HasSubstr("'torch.ComplexFloatStorage'"));
  EXPECT_THAT(error_of("K\x01)R."), HasSubstr("REDUCE on an int, which is not callable"));
  EXPECT_THAT(error_of("ccollections\nOrderedDict\n]\x85R."), HasSubstr("OrderedDict called with arguments"));
  EXPECT_THAT(error_of("ccollections\nOrderedDict\nK\x01\x85\x81."), HasSubstr("NEWOBJ is supported only for OrderedDict()"));
  EXPECT_EQ(run("ccollections\nOrderedDict\n)\x81.").root->kind, Kind::Dict);
  EXPECT_THAT(error_of("ctorch._utils\n_rebuild_tensor_v2\n(K\x01tR."), HasSubstr("_rebuild_tensor_v2 with 1 arguments"));
  EXPECT_THAT(error_of("ctorch._utils\n_rebuild_parameter\n(K\x01N\x89tR."), HasSubstr("the data of a Parameter must be a tensor"));
  PickleWriter pid;
  pid.mark().str("storage").integer(1).tuple().persid().stop();
  EXPECT_THAT(error_of(pid.str()), HasSubstr("persistent id is not ('storage', type, key, location, numel)"));
}

TEST(Pickle, ResolvesSizesDtypesAndStorages) {
  PickleWriter size;
  size.global("torch", "Size").ints({3, 4}).op(0x85).reduce().stop();
  const auto s = run(size.str());
  ASSERT_EQ(s.root->kind, Kind::Tuple);
  EXPECT_EQ(s.root->items.size(), 2u);
  EXPECT_EQ(run("ctorch\nbfloat16\n.").root->dtype, DType::BF16);
  PickleWriter pid;
  pid.mark().str("storage").global("torch", "HalfStorage").str("7").str("cuda:0").integer(5).tuple().persid().stop();
  const auto p = run(pid.str());
  EXPECT_EQ(p.root->kind, Kind::Storage);
  EXPECT_EQ(p.root->text, "7");
  EXPECT_EQ(p.root->nbytes, 10u);
  PickleWriter negative;
  negative.mark().str("storage").global("torch", "HalfStorage").str("7").str("cpu").integer(-5).tuple().persid().stop();
  EXPECT_THAT(error_of(negative.str()), HasSubstr("negative storage size -5"));
}

TEST(Pickle, EnforcesLimits) {
  Limits limits;
  limits.max_stack = 3;
  EXPECT_THAT(error_of("NNNN....", limits), HasSubstr("the stack grows deeper than 3"));
  EXPECT_THAT(error_of("((((", limits), HasSubstr("too many nested MARKs"));
  limits = {};
  limits.max_memo = 2;
  EXPECT_THAT(error_of(std::string("Nq\x00q\x01q\x02.", 8), limits), HasSubstr("more than 2 memo entries"));
  EXPECT_NO_THROW(run(std::string("Nq\x00q\x01q\x01q\x00.", 10), limits));  // overwriting does not grow the memo
  limits = {};
  limits.max_ops = 5;
  EXPECT_THAT(error_of("NNNNNN.", limits), HasSubstr("more than 5 opcodes"));
  limits = {};
  limits.max_objects = 2;
  EXPECT_THAT(error_of("NNN.", limits), HasSubstr("more than 2 objects"));
}

}  // namespace
}  // namespace rlhf::formats::pickle
