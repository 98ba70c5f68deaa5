// ImageLocality (score, weight 1): favours nodes that already hold the pod's
// images, each image's size scaled by the fraction of nodes holding it (to
// avoid piling pods onto the few nodes with a rare image).
import { MAX_NODE_SCORE } from './helper.js';

const MB = 1024 * 1024;
export const IMAGE_MIN_THRESHOLD = 23 * MB;
export const IMAGE_MAX_CONTAINER_THRESHOLD = 1000 * MB;
export const IMAGE_LOCALITY_WEIGHT = 1;

/** scaledImageScore: int64(size × numNodes/totalNodes). */
export function scaledImageScore(sizeBytes: number, numNodes: number, totalNodes: number): number {
  return Math.trunc(sizeBytes * (numNodes / totalNodes));
}

/** calculatePriority: clamp the sum into [23 MB, 1000 MB × containers] and scale to 0-100. */
export function imageLocalityPriority(sumScores: number, numContainers: number): number {
  if (numContainers === 0) return 0;
  const maxThreshold = IMAGE_MAX_CONTAINER_THRESHOLD * numContainers;
  const s = Math.min(Math.max(sumScores, IMAGE_MIN_THRESHOLD), maxThreshold);
  return Math.trunc((MAX_NODE_SCORE * (s - IMAGE_MIN_THRESHOLD)) / (maxThreshold - IMAGE_MIN_THRESHOLD));
}
