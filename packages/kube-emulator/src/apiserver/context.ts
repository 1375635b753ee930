// What every handler gets: the cluster-wide services and the request being served.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ImageStore, Node, NodeOptions } from '../contracts.js';
import type { ServedVersion } from './discovery.js';
import type { Authorizer } from './rbac.js';
import type { RequestInfo } from './request-info.js';
import type { ResourceType } from './resources.js';
import type { ApiObjectStore } from './store.js';
import type { ServiceAccountTokens, UserInfo } from './tokens.js';
import type { WatchServer } from './watch.js';

/** Cluster-wide services shared by all handlers. */
export interface ServerContext {
  store: ApiObjectStore;
  /** The node (created before the context). */
  node: Node;
  authorizer: Authorizer;
  tokens: ServiceAccountTokens;
  watches: WatchServer;
  stateDir: string;
  caCertPem: string;
  /** Kubernetes 1.35+: WebSocket exec/attach also needs `create` on the subresource. */
  execRequiresCreate: boolean;
  /** Records an Event (the node's recordEvent). */
  recordEvent: NodeOptions['recordEvent'];
  /** host:port clients reach the server on (discovery). */
  serverAddress(): string;
  /** The Kubernetes version served (`/version`, exec subprotocols). */
  version: ServedVersion;
  /** The cluster's image store (the image admin endpoint imports and lists through it). */
  images: ImageStore;
  /** The volume provisioner: while `held`, new claims stay Pending (the claimProvisioning fault). */
  claimProvisioning: { held: boolean };
}

/** One resource request. */
export interface RequestScope {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  info: RequestInfo;
  user: UserInfo;
  type: ResourceType;
}
