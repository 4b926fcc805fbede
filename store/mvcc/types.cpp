// types.cpp: constructors of RequestOp.
#include "store/mvcc/types.h"

namespace mgmt::store::mvcc {

RequestOp RequestOp::make_range(RangeRequest r) {
  RequestOp op;
  op.kind = Kind::range;
  op.range = std::move(r);
  return op;
}
RequestOp RequestOp::make_put(PutRequest r) {
  RequestOp op;
  op.kind = Kind::put;
  op.put = std::move(r);
  return op;
}
RequestOp RequestOp::make_delete(DeleteRangeRequest r) {
  RequestOp op;
  op.kind = Kind::delete_range;
  op.delete_range = std::move(r);
  return op;
}
RequestOp RequestOp::make_txn(TxnRequest r) {
  RequestOp op;
  op.kind = Kind::txn;
  op.txn = std::make_shared<TxnRequest>(std::move(r));
  return op;
}

}  // namespace mgmt::store::mvcc
