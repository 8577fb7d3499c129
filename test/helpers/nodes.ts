/**
 * In-process nodes for one test file: each listens on 127.0.0.1 (real TCP,
 * libp2p) and all are closed when the file's tests end.
 */
import { after } from 'node:test';
import { Node, type NodeOptions } from '../../src/node/index.ts';

export interface LocalNodes {
  /** Starts a node on 127.0.0.1; `options` add to (and override) the file's defaults. */
  node(options?: NodeOptions): Promise<Node>;
  /** Closes `n` with the others at the end (a node made with `Node.create` directly). */
  keep(n: Node): Node;
  /** Stops closing `n` at the end (the test closed it itself). */
  release(n: Node): void;
}

export function localNodes(defaults: NodeOptions = {}): LocalNodes {
  const open: Node[] = [];
  after(async () => {
    await Promise.all(open.map((n) => n.close()));
  });
  const keep = (n: Node): Node => {
    open.push(n);
    return n;
  };
  return {
    node: async (options = {}) => keep(await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'], ...defaults, ...options })),
    keep,
    release: (n) => {
      const i = open.indexOf(n);
      if (i >= 0) open.splice(i, 1);
    },
  };
}
