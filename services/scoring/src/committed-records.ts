/**
 * The records of a fetched batch the group has not committed yet. A partition's new owner
 * fetches from the offset it read at assignment; an old owner that stalled past its session
 * timeout may have committed its transaction since (KafkaJS has no KIP-447). Records below
 * the group's committed offset are that owner's, done: scoring them again would re-emit their
 * pending transitions. `committed` is the group's offset for the partition; -1: none.
 */
export function uncommittedRecords<M extends { readonly offset: string }>(messages: readonly M[], committed: number): readonly M[] {
  return committed < 0 ? messages : messages.filter((m) => Number(m.offset) >= committed);
}
