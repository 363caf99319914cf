/**
 * What the harness hands a flow step in the page, and what the flow hands back: shared by the Node
 * side (harness/flows.ts prepares the step) and the browser bundle (flows.ts runs it). Types only.
 */
import type { StepOutcome } from '../../../engines/types.js';

/** The flows the bundle implements (fixtures/flows/<id>.json describes each one's requests). */
export const FLOW_IDS = ['sdk-put-object', 'sdk-get-object', 'sdk-list-objects', 'sdk-multipart-upload', 'presigned-put', 'presigned-post'] as const;
export type FlowId = (typeof FLOW_IDS)[number];

export interface FlowStep {
  kind: 'flow';
  flow: FlowId;
  /** The case's object URL (what other step kinds request). */
  url: string;
  /** Where the SDK goes: path-style endpoint, bucket, key, region; the case parameter to add to every request. */
  target: { endpoint: string; bucket: string; key: string; region: string; caseParam?: [name: string, value: string] };
  /** For the SDK flows: the bucket's test credentials (real apps use presigned URLs or temporary credentials). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** presigned-put: a URL a server presigned for PUT, and the headers it was signed with. */
  presigned?: { url: string; headers: Record<string, string> };
  /** presigned-post: the form's URL and fields (createPresignedPost on a server). */
  post?: { url: string; fields: Record<string, string> };
  /** Response headers the client reads, per request label (fixtures/flows/<id>.json): missing ones make the verdict "hidden". */
  reads?: Record<string, string[]>;
  /** What to upload (defaults per flow). */
  upload?: { text?: string; base64?: string; size?: number; contentType?: string };
}

/** One request the flow's client code made, as the page saw it. */
export interface FlowRequestRecord {
  /** The SDK command without "Command" (PutObject, UploadPart, …), or what a plain fetch was. */
  label: string;
  method: string;
  url: string;
  /** The headers the client handed to fetch (lower-cased names); the browser adds its own. */
  requestHeaders: Record<string, string>;
  status?: number;
  /** Response headers page JavaScript could read (CORS-filtered). */
  readableHeaders?: Record<string, string>;
  /** The error fetch (or the SDK) raised for this request. */
  error?: string;
}

export interface FlowStepOutcome extends StepOutcome {
  requests: FlowRequestRecord[];
}
