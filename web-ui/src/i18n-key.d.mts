export function template(text: string): { key: string; params: string[] };
export function hash(text: string): string;
