import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { relativePathProblem } from '../paths.js';
import {
  booleanText,
  booleanValue,
  dnsSubdomain,
  durationMs,
  durationText,
  httpUrl,
  imageRef,
  quantity,
} from './fields.js';
import { dynamic } from './template.js';

/*
 * The transfer strategy and log collector blocks are podrun's own. Like `config`, the blocks are
 * written as objects and their fields are dynamic (so `secretAccessKey: "{{ secret('S3') }}"`
 * works); flow schemas keep values as written, rendered schemas convert.
 */

const SEVEN_DAYS = 7 * 86_400_000;

const subPath = () =>
  z.string().superRefine((v, ctx) => {
    const problem = relativePathProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const hostPath = () =>
  z.string().refine((v) => v.startsWith('/') && !v.split('/').includes('..'), {
    error: "expected an absolute path on the node, without '..'",
  });

const expiryOk = (ms: number) => ms <= SEVEN_DAYS;
const EXPIRY_MESSAGE = 'pre-signed URLs live at most 7 days (P7D): choose a shorter urlExpiry';

const credentials = () =>
  z.strictObject({
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
    sessionToken: z.string().min(1).optional(),
  });

/** Field schemas of one stage; `flow` keeps values as written, `rendered` converts. */
interface Kit<B, Q, S, N, I, U, E, H> {
  bool: B;
  size: Q;
  subPath: S;
  name: N;
  image: I;
  url: U;
  expiry: E;
  hostPath: H;
}

type T = z.ZodType;

function transferSchema<
  B extends T,
  Q extends T,
  S extends T,
  N extends T,
  I extends T,
  U extends T,
  E extends T,
  H extends T,
>(k: Kit<B, Q, S, N, I, U, E, H>) {
  return z.discriminatedUnion('type', [
    z
      .strictObject({ type: z.literal('exec-tar') })
      .meta({ description: 'exec + tar into an init container and a sidecar (the reference).' }),
    z
      .strictObject({
        type: z.literal('pvc'),
        storageClassName: k.name.optional().meta({ description: 'Storage class of the claim podrun creates.' }),
        size: k.size.meta({ description: 'Size of the claim podrun creates (default 1Gi).' }),
        existingClaim: k.name.optional().meta({ description: 'Use this existing claim instead of creating one.' }),
        subPath: k.subPath.optional().meta({ description: 'Directory inside the claim.' }),
        helperImage: k.image.optional().meta({ description: 'Image of the helper that moves files.' }),
        hostPath: k.hostPath
          .optional()
          .meta({ description: 'A hostPath volume instead of a claim (single node, tests).' }),
      })
      .meta({ description: 'Files through a PersistentVolumeClaim.' }),
    z
      .strictObject({
        type: z.literal('object-storage'),
        bucket: z.string().min(1).meta({ description: 'Bucket holding the transferred files.' }),
        prefix: z.string().optional().meta({ description: "Key prefix for this runner's objects." }),
        endpoint: k.url.optional().meta({ description: 'Endpoint of an S3-compatible service; AWS when unset.' }),
        region: z.string().min(1).optional(),
        forcePathStyle: k.bool.optional().meta({ description: 'Path-style addressing.' }),
        credentials: credentials()
          .optional()
          .meta({ description: 'Static credentials; the default chain when unset.' }),
        urlExpiry: k.expiry.meta({ description: 'Lifetime of pre-signed URLs, at most P7D (default PT1H).' }),
        image: k.image.optional().meta({ description: 'Image that fetches and pushes files (needs wget or curl).' }),
      })
      .meta({ description: 'Files through S3-compatible storage and pre-signed URLs (no pods/exec).' }),
  ]);
}

function collectorSchema<P extends z.ZodType>(interval: P) {
  return z.discriminatedUnion('type', [
    z
      .strictObject({ type: z.literal('follow') })
      .meta({ description: 'One follow stream per container (the reference).' }),
    z
      .strictObject({
        type: z.literal('poll'),
        interval: interval.meta({ description: 'Time between reads (default PT2S).' }),
      })
      .meta({ description: 'Periodic reads from a cursor.' }),
  ]);
}

const flowKit = {
  bool: dynamic(booleanText()),
  size: dynamic(quantity()).default('1Gi'),
  subPath: dynamic(subPath()),
  name: dynamic(dnsSubdomain('a Kubernetes object name')),
  image: dynamic(imageRef()),
  url: dynamic(httpUrl()),
  expiry: dynamic(
    durationText({ positive: true }).refine((v) => expiryOk(parseDuration(v)), { error: EXPIRY_MESSAGE }),
  ).default('PT1H'),
  hostPath: dynamic(hostPath()),
};

const renderedKit = {
  bool: booleanValue(),
  size: quantity().default('1Gi'),
  subPath: subPath(),
  name: dnsSubdomain('a Kubernetes object name'),
  image: imageRef(),
  url: httpUrl(),
  expiry: durationMs({ positive: true }).refine(expiryOk, { error: EXPIRY_MESSAGE }).prefault('PT1H'),
  hostPath: hostPath(),
};

/** The file transfer block after rendering. */
export const fileTransferSchema = transferSchema(renderedKit)
  .default({ type: 'exec-tar' })
  .meta({ description: 'How files reach the pod and come back; default exec-tar (the reference behaviour).' });

/** The file transfer block as written in a flow. */
export const dynamicFileTransferSchema = transferSchema(flowKit)
  .default({ type: 'exec-tar' })
  .meta({ description: 'How files reach the pod and come back; default exec-tar (the reference behaviour).' });

/** The log collector block after rendering. */
export const logCollectorSchema = collectorSchema(durationMs({ positive: true }).prefault('PT2S'))
  .default({ type: 'follow' })
  .meta({ description: 'How container logs are read; default follow (the reference behaviour).' });

/** The log collector block as written in a flow. */
export const dynamicLogCollectorSchema = collectorSchema(dynamic(durationText({ positive: true })).default('PT2S'))
  .default({ type: 'follow' })
  .meta({ description: 'How container logs are read; default follow (the reference behaviour).' });
