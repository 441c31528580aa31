/** An OCI image reference: [registry[:port]/]path[:tag][@digest], no spaces or shell characters. */
export const IMAGE_PATTERN = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/i;
