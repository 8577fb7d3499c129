/**
 * A member's view of the group under the message scheme: who is in it, who
 * added each, and who was removed. Removals are strong: the members the
 * removed one added without the remover knowing (not among the removal's
 * recipients) go too, and so on down the line, as in src/auth; so an add
 * concurrent with the removal of its adder is undone whichever is read
 * first.
 */
import type { DcgkaState } from './dcgka.ts';

/** Former members remembered (a removal by one of them, concurrent with its own, still counts). */
const MAX_FORMER = 4096;

export function applyRemoval(state: DcgkaState, me: string, removed: string, stays: ReadonlySet<string>): void {
  const gone = new Set([removed]);
  state.members.delete(removed);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [id, info] of state.members) {
      if (info.adder === undefined || !gone.has(info.adder) || stays.has(id)) continue;
      state.members.delete(id);
      gone.add(id);
      changed = true;
    }
  }
  for (const id of gone) rememberFormer(state, id);
  if (gone.has(me)) state.removed = true;
}

export function rememberFormer(state: DcgkaState, member: string): void {
  state.former.add(member);
  if (state.former.size > MAX_FORMER) state.former.delete(state.former.values().next().value!);
}
