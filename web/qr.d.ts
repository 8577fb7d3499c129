// Types of web/qr.js for the tests that import it.
export type QrLevel = 'L' | 'M';
export const EC_PER_BLOCK: Record<QrLevel, number[]>;
export const BLOCKS: Record<QrLevel, number[]>;
export function reedSolomon(data: number[], n: number): number[];
export function rawCodewords(version: number): number;
export function formatBits(level: QrLevel, mask: number): number;
export function qrMatrix(text: string, level?: QrLevel): boolean[][];
